import { defineSuite } from "../lib/suite.mjs";

defineSuite({ fixture: "next14", mode: "dev" });
