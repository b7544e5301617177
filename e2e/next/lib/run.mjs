// npm test: builds the binaries (unless SOCKSIDE_BIN/NEXTCONFIG_BIN are
// given), installs every fixture's Next once (in parallel, cached in
// e2e/.cache/next), then runs the suite with node --test, two files (two Next
// processes) at a time. Arguments are test files to run instead of tests/;
// NEXT_E2E_FIXTURES=next16,next15 runs only those versions.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { binaries, fixtures, here, installNext } from "./cache.mjs";
import { exitOnSignals } from "./proc.mjs";

exitOnSignals();

const started = Date.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

const only = process.env.NEXT_E2E_FIXTURES?.split(",").map((f) => f.trim()).filter(Boolean);
const fixtureOf = (file) => basename(file).split("-")[0];
let files = process.argv.slice(2);
if (!files.length) {
  files = readdirSync(join(here, "tests"))
    .filter((f) => f.endsWith(".test.mjs"))
    .map((f) => join(here, "tests", f))
    .filter((f) => !only || only.includes(fixtureOf(f)));
  // The longest file (a build, then the 60 s polling session) starts first.
  files.sort((a, b) => (a.endsWith("next16-start.test.mjs") ? -1 : b.endsWith("next16-start.test.mjs") ? 1 : a.localeCompare(b)));
}
const used = fixtures().filter((f) => files.some((file) => fixtureOf(file) === f));

const bins = await binaries();
const afterBins = Date.now();
await Promise.all(used.map((f) => installNext(f)));
const afterInstall = Date.now();
console.log(`# e2e/next: binaries ${secs(afterBins - started)}, Next installs ${secs(afterInstall - afterBins)}`);

const child = spawn(
  process.execPath,
  ["--test", "--test-concurrency=2", "--test-timeout=900000", ...files],
  {
    cwd: here,
    stdio: "inherit",
    env: { ...process.env, SOCKSIDE_BIN: bins.sockside, NEXTCONFIG_BIN: bins.nextconfig },
  },
);
process.on("exit", () => child.exitCode === null && child.kill("SIGTERM"));
child.on("exit", (code, signal) => {
  console.log(`# e2e/next: tests ${secs(Date.now() - afterInstall)}, total ${secs(Date.now() - started)}`);
  process.exit(code ?? (signal ? 1 : 0));
});
