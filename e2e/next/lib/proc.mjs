// Child processes for the Next e2e suite: each runs in its own process group
// (next dev forks workers, npm runs scripts) so stop() ends all of it, and
// every wait has a deadline.
import { spawn } from "node:child_process";

const running = new Set();

// A test file that throws or is cancelled must not leave Next behind.
process.on("exit", killAll);

/** Ends every process group still running (SIGKILL). */
export function killAll() {
  for (const p of running) killGroup(p, "SIGKILL");
}

/** Makes SIGINT and SIGTERM end this process, and with it every group it started. */
export function exitOnSignals() {
  for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => process.exit(130));
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** The environment every child gets: no test-runner or developer settings. */
export function cleanEnv(extra = {}) {
  const env = {
    NEXT_TELEMETRY_DISABLED: "1",
    // The fixtures' lockfiles lack the other platforms' @next/swc-* entries (see
    // installNext); next dev would patch the copy's lockfile over the network.
    NEXT_IGNORE_INCORRECT_LOCKFILE: "1",
  };
  for (const k of ["PATH", "HOME", "TMPDIR", "LANG", "GOCACHE", "GOPATH", "GOFLAGS", "GOMODCACHE", "npm_config_cache"]) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  return { ...env, ...extra };
}

/**
 * Starts cmd in a new process group. The result's logs() holds its stdout
 * and stderr so far; waitFor(re) resolves with the first match in them;
 * stop() ends the whole group (SIGTERM, SIGKILL after graceMs).
 */
export function start(cmd, args, { cwd, env, name = cmd } = {}) {
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let logs = "";
  const waiters = new Set();
  const onData = (b) => {
    logs += b;
    if (logs.length > 4_000_000) logs = logs.slice(-2_000_000);
    for (const w of waiters) w();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  let done = null;
  const exited = new Promise((res) => {
    child.on("error", (err) => {
      logs += `\n[${name}: ${err.message}]\n`;
    });
    child.on("close", (code, signal) => {
      running.delete(child);
      // set before the waiters look, so that waitFor rejects at the exit
      // instead of at its deadline
      done = { code, signal };
      res(done);
      for (const w of waiters) w();
    });
  });

  return {
    child,
    name,
    exited,
    logs: () => logs,
    tail: (n = 4000) => logs.slice(-n),
    /** Resolves with re's match in the output, rejects on exit or after ms. */
    waitFor(re, ms, what = String(re)) {
      return new Promise((res, rej) => {
        const check = () => {
          const m = re.exec(logs);
          if (m) return finish(() => res(m));
          if (done) return finish(() => rej(new Error(`${name} exited (${done.code ?? done.signal}) before ${what}:\n${logs.slice(-4000)}`)));
        };
        const timer = setTimeout(() => finish(() => rej(new Error(`${name}: no ${what} within ${ms} ms:\n${logs.slice(-4000)}`))), ms);
        const finish = (f) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    async stop({ graceMs = 10000 } = {}) {
      if (done) return done;
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
      const r = await exited;
      clearTimeout(timer);
      // Next's workers may outlive the leader; the group goes with it.
      killGroup(child, "SIGKILL");
      return r;
    },
  };
}

/** Runs cmd to completion; rejects with its output on failure or after ms. */
export async function run(cmd, args, { cwd, env, ms, name = `${cmd} ${args.join(" ")}`, okCodes = [0] } = {}) {
  const p = start(cmd, args, { cwd, env, name });
  const timer = ms ? setTimeout(() => p.stop({ graceMs: 2000 }), ms) : undefined;
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  if (!okCodes.includes(code)) {
    throw new Error(`${name} ${signal ? `killed (${signal}${ms ? `, limit ${ms} ms` : ""})` : `exited ${code}`}:\n${p.tail(8000)}`);
  }
  return { code, output: p.logs() };
}
