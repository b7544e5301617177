// Starts the real sockside binary for a test and stops it afterwards.
// The binary comes from SOCKSIDE_BIN (the Makefile builds it once); without
// it the harness builds one into e2e/.cache.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createHmac } from "node:crypto";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export function serverBinary() {
  return process.env.SOCKSIDE_BIN || cachedBuild("sockside", root, "./server");
}

/** The binary of examples/embed, an application module that imports sockside (SOCKSIDE_EMBED_BIN, else built). */
export function embedBinary() {
  return process.env.SOCKSIDE_EMBED_BIN || cachedBuild("embed-example", join(root, "examples/embed"), ".");
}

function cachedBuild(name, dir, pkg) {
  const bin = join(root, "e2e/.cache", name);
  if (!existsSync(bin)) {
    mkdirSync(dirname(bin), { recursive: true });
    execFileSync("go", ["build", "-o", bin, pkg], { cwd: dir, stdio: "inherit" });
  }
  return bin;
}

/**
 * Starts the server (or another binary built on sockside: bin) on a free
 * port with env on top of test defaults and resolves once it logs its
 * address. stop() sends SIGTERM and waits.
 */
export async function startServer(env = {}, { timeoutMs = 15000, bin = serverBinary() } = {}) {
  const proc = spawn(bin, [], {
    cwd: join(root, "e2e"), // no .env there: tests see only what they set
    env: {
      PATH: process.env.PATH,
      SOCKET_HOST: "127.0.0.1",
      SOCKET_PORT: "0",
      SOCKET_DEMO: "on", // the tests drive the demo's namespaces
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let logs = "";
  const exited = new Promise((res) => proc.on("exit", (code, signal) => res({ code, signal })));
  const addr = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start in ${timeoutMs} ms:\n${logs}`)), timeoutMs);
    const onData = (b) => {
      logs += b;
      const m = /sockside listening"? addr=(\S+)/.exec(logs); // slog text, or log through slog.Default
      if (m) { clearTimeout(timer); res(m[1]); }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    exited.then(({ code }) => { clearTimeout(timer); rej(new Error(`server exited (${code}) before listening:\n${logs}`)); });
  });
  return {
    url: `http://${addr}`,
    proc,
    exited,
    logs: () => logs,
    async stop({ signal = "SIGTERM", timeoutMs = 15000 } = {}) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const res = await exited;
      clearTimeout(timer);
      return res;
    },
  };
}

/** Signs an HS256 JWT, as the server's auth expects. */
export function signToken(secret, claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

/** Reads one metric's value (summed over the label filter) from /metrics. */
export async function metric(url, name, labels = {}) {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ok = Object.entries(labels).every(([k, v]) => (m[2] ?? "").includes(`${k}="${v}"`));
    if (ok) sum += Number(m[3]);
  }
  return sum;
}
