import { defineSuite } from "../lib/suite.mjs";

defineSuite({ fixture: "next16", mode: "dev" });
