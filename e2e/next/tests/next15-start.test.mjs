import { defineSuite } from "../lib/suite.mjs";

defineSuite({ fixture: "next15", mode: "start" });
