// Helpers for the scale-out tests: a redis-server of the test's own on a
// free port (stopped and restarted at will), several sockside nodes on one
// Redis, and polling with deadlines.
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { startServer, metric } from "./server.mjs";

export const SHARED_REDIS = "redis://127.0.0.1:6379/0";

/** A key prefix no other test run uses. */
export function testPrefix() {
  return `test-${randomBytes(6).toString("hex")}`;
}

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
    srv.on("error", rej);
  });
}

/** Polls fn until it returns a truthy value (returned) or ms pass. */
export async function poll(fn, ms = 5000, what = "condition", every = 25) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms${last ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export function hasRedisServer() {
  try { execFileSync("redis-server", ["--version"], { stdio: "ignore" }); return true; } catch { return false; }
}

/** A redis-server on a free port; start() and stop() may be repeated. */
export async function ownRedis() {
  const port = await freePort();
  let proc = null;
  let exited = null;
  const r = {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    async start() {
      proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"], { stdio: "ignore" });
      exited = new Promise((res) => proc.on("exit", res));
      await poll(() => redisPing(port), 5000, `redis on ${port}`);
    },
    async stop() {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGKILL");
      await exited;
      proc = null;
    },
  };
  return r;
}

/** PING over a raw socket (no client library needed). */
export function redisPing(port) {
  return new Promise((res) => {
    import("node:net").then(({ connect }) => {
      const s = connect(port, "127.0.0.1");
      const done = (v) => { s.destroy(); res(v); };
      s.setTimeout(500, () => done(false));
      s.on("error", () => done(false));
      s.on("connect", () => s.write("PING\r\n"));
      s.on("data", (b) => done(b.toString().startsWith("+PONG")));
    });
  });
}

/** Starts n nodes with env and waits until each sees all n on Redis. */
export async function startNodes(n, env) {
  const nodes = [];
  try {
    for (let i = 0; i < n; i++) nodes.push(await startServer({ LOG_LEVEL: "info", ...env }));
    await waitNodes(nodes, n);
  } catch (e) {
    await stopAll(nodes);
    throw e;
  }
  return nodes;
}

/** Waits until every node's sockside_adapter_nodes gauge reads n. */
export async function waitNodes(nodes, n, ms = 10000) {
  await poll(async () => {
    for (const node of nodes) if ((await metric(node.url, "sockside_adapter_nodes")) !== n) return false;
    return true;
  }, ms, `${n} nodes on Redis`);
}

export async function stopAll(nodes) {
  await Promise.all(nodes.map((n) => n.stop()));
}

let clockTicks;

/** CPU seconds (user + system) the process has used, from /proc. */
export function cpuSeconds(pid) {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[11] is utime, fields[12] stime (fields 14 and 15 of the full line)
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Counts log lines with msg="<prefix>...". */
export function countLogs(node, prefix) {
  return node.logs().split("\n").filter((l) => l.includes(`msg="${prefix}`)).length;
}

export const HAPROXY_CFG = new URL("../../deploy/haproxy.cfg", import.meta.url).pathname;

export function hasHaproxy() {
  try { execFileSync("haproxy", ["-v"], { stdio: "ignore" }); return true; } catch { return false; }
}

/**
 * Runs HAProxy with deploy/haproxy.cfg in front of three nodes and resolves
 * once it forwards to a ready node. stop() ends it.
 */
export async function startHaproxy(nodes) {
  const port = await freePort();
  const env = { PATH: process.env.PATH, SOCKSIDE_LB_BIND: `127.0.0.1:${port}` };
  nodes.forEach((n, i) => { env[`SOCKSIDE_NODE${i + 1}`] = new URL(n.url).host; });
  const proc = spawn("haproxy", ["-db", "-f", HAPROXY_CFG], { env, stdio: ["ignore", "pipe", "pipe"] });
  let logs = "";
  proc.stdout.on("data", (b) => { logs += b; });
  proc.stderr.on("data", (b) => { logs += b; });
  const exited = new Promise((res) => proc.on("exit", res));
  const url = `http://127.0.0.1:${port}`;
  try {
    await poll(async () => (await fetch(`${url}/readyz`)).status === 200, 10000, "haproxy forwarding");
  } catch (e) {
    proc.kill("SIGKILL");
    throw new Error(`${e.message}\n${logs}`);
  }
  return {
    url,
    logs: () => logs,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
