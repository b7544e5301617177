// Runs the official language-neutral protocol test suites (copied from
// socketio/socket.io at d2d753f: docs/engine.io-protocol/v4-test-suite and
// docs/socket.io-protocol/v5-test-suite, MIT, see LICENSE.socket.io)
// against the conformance fixture (e2e/conformance) on two stacks: the
// public package as the server runs it ("app"), and internal/socketio alone
// ("core"). The suites hard-code http://localhost:3000: each run gets a
// copy pointed at a free port.
//
// Both must pass every case. A few cases are timed at the heartbeat's edge
// (they sleep exactly pingInterval + pingTimeout), so each case gets two
// retries: a failure that repeats three times fails the run.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../..");
const suites = ["engine.io-v4", "socket.io-v5"];

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** fixture starts the conformance command on core and resolves once it listens. */
async function fixture(bin, core) {
  const port = await freePort();
  const proc = spawn(bin, ["-addr", `127.0.0.1:${port}`, "-stack", core], { stdio: ["ignore", "pipe", "pipe"] });
  let logs = "";
  await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the ${core} fixture did not start in 15 s:\n${logs}`)), 15000);
    const onData = (b) => {
      logs += b;
      if (logs.includes("conformance fixture listening")) {
        clearTimeout(timer);
        res();
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`the ${core} fixture exited (${code}):\n${logs}`));
    });
  });
  const exited = new Promise((res) => proc.on("exit", res));
  return {
    port,
    async stop() {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** runSuite runs one suite's copy against port with mocha's JSON reporter. */
function runSuite(suite, core, port) {
  const dir = join(here, ".run", `${core}-${suite}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const source = readFileSync(join(here, suite, "test-suite.js"), "utf8");
  const pointed = source.replace('const URL = "http://localhost:3000";', `const URL = "http://127.0.0.1:${port}";`);
  if (pointed === source) throw new Error(`${suite}: the suite's URL constant was not found`);
  writeFileSync(join(dir, "test-suite.js"), pointed);
  copyFileSync(join(here, suite, "node-imports.js"), join(dir, "node-imports.js"));
  const out = join(dir, "report.json");
  const r = spawnSync(
    process.execPath,
    [join(here, "node_modules/mocha/bin/mocha"), "--reporter", "json", "--reporter-option", `output=${out}`, "--timeout", "10000", "--retries", "2", join(dir, "test-suite.js")],
    { cwd: here, encoding: "utf8", timeout: 180000 },
  );
  let report;
  try {
    report = JSON.parse(readFileSync(out, "utf8"));
  } catch {
    throw new Error(`${core} ${suite}: mocha gave no report (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return report;
}

const bin = join(here, ".run", "conformance");
mkdirSync(dirname(bin), { recursive: true });
const build = spawnSync("go", ["build", "-o", bin, "./e2e/conformance"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

let failed = false;
const rows = [];
for (const core of ["app", "core"]) {
  const f = await fixture(bin, core);
  try {
    for (const suite of suites) {
      const report = runSuite(suite, core, f.port);
      const total = report.stats.tests;
      const failures = report.failures.map((t) => ({ title: t.fullTitle, err: t.err?.message ?? "" }));
      const unexpected = failures;
      rows.push(`${core.padEnd(8)} ${suite.padEnd(13)} ${report.stats.passes}/${total} passing${failures.length ? `; failing: ${failures.map((t) => t.title).join("; ")}` : ""}`);
      for (const t of unexpected) {
        failed = true;
        console.error(`FAIL ${core} ${suite}: ${t.title}\n  ${t.err}`);
      }
      if (report.stats.pending > 0) {
        failed = true;
        console.error(`FAIL ${core} ${suite}: ${report.stats.pending} cases pending (skipped)`);
      }
    }
  } finally {
    await f.stop();
  }
}
console.log(rows.join("\n"));
process.exit(failed ? 1 : 0);
