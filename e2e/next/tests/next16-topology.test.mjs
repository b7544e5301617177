// The docker-compose topology as processes: a redis-server of its own, three
// sockside nodes with the compose file's server environment (REDIS_URL,
// SOCKET_ADAPTER, REDIS_PREFIX), HAProxy with deploy/haproxy.cfg in front of
// them, and the Next 16 fixture built standalone (`node
// .next/standalone/server.js`) with its rewrite pointing at HAProxy, as
// `web` does with SOCKET_INTERNAL_URL=http://lb:8080. socket.io-client
// reaches everything through Next only, on every transport setup; only the
// emit API is posted to HAProxy (a Next route handler's way).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { binaries, repo } from "../lib/cache.mjs";
import { build, copyApp, nextVersion, serve, wire } from "../lib/app.mjs";
import { exitOnSignals } from "../lib/proc.mjs";
import { TRANSPORTS, ack, connect, connected, get, once, upgraded } from "../lib/client.mjs";
import { hasHaproxy, hasRedisServer, ownRedis, poll, startHaproxy, startNodes, stopAll } from "../../lib/cluster.mjs";
import { metric } from "../../lib/server.mjs";

const FIXTURE = "next16";
const NODES = 3;
const EMIT_SECRET = "topology-emit-secret"; // compose takes it from .env
const setups = Object.entries(TRANSPORTS);
const skip = !hasRedisServer() ? "redis-server not installed" : !hasHaproxy() ? "haproxy not installed" : false;

exitOnSignals();

/**
 * The `server` service's `environment:` block of docker-compose.yml (flat
 * `KEY: value` lines), so the nodes run with what compose gives them.
 */
function composeServerEnv() {
  const env = {};
  let inServer = false;
  let inEnv = false;
  for (const line of readFileSync(join(repo, "docker-compose.yml"), "utf8").split("\n")) {
    if (/^ {2}\S/.test(line)) {
      inServer = line.trim() === "server:";
      inEnv = false;
    } else if (inServer && /^ {4}\S/.test(line)) {
      inEnv = line.trim() === "environment:";
    } else if (inEnv) {
      const m = /^ {6}([A-Z_][A-Z0-9_]*): *("?)([^"]*)\2\s*$/.exec(line);
      if (m) env[m[1]] = m[3];
    }
  }
  assert.ok(env.REDIS_URL, `no REDIS_URL in docker-compose.yml's server environment: ${JSON.stringify(env)}`);
  return env;
}

const ctx = { timings: {}, clients: new Set() };

// A cancelled run (SIGINT/SIGTERM, a throw) skips after(): the nodes, HAProxy
// and redis-server are this process's children; end them by pid. (Next runs
// in its own process group, which lib/proc.mjs ends.)
process.on("exit", () => {
  let pids = [];
  try {
    pids = execFileSync("pgrep", ["-P", String(process.pid)]).toString().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // none left
  }
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

const timed = async (name, fn) => {
  const started = Date.now();
  const r = await fn();
  ctx.timings[name] = Date.now() - started;
  return r;
};

/** A socket.io-client socket through Next; withCredentials keeps HAProxy's sticky cookie. */
function viaNext(nsp, transports, opts = {}) {
  const socket = connect(`${ctx.next.url}${nsp}`, transports, { withCredentials: true, ...opts });
  ctx.clients.add(socket);
  return socket;
}

/** Payloads of `event` on socket, in arrival order. */
function collect(socket, event) {
  const got = [];
  socket.on(event, (v) => got.push(v));
  return got;
}

/** Waits (with a deadline) until pred() holds. */
const until = (pred, ms, what) => poll(pred, ms, what, 10);

/** /chat sockets per node, from each node's own gauge. */
const chatSockets = () => Promise.all(ctx.nodes.map((n) => metric(n.url, "sockside_sockets", { namespace: "/chat" })));

const emit = (body) =>
  fetch(`${ctx.lb.url}/api/emit`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${EMIT_SECRET}` },
    body: JSON.stringify(body),
  });

// Shows the processes' last words with a failure.
const withLogs = (fn) => async (t) => {
  try {
    await fn(t);
  } catch (err) {
    err.message += `\n--- ${ctx.next?.proc.name ?? "next"} (last lines) ---\n${ctx.next?.proc.tail(2000) ?? ""}`;
    for (const [i, n] of (ctx.nodes ?? []).entries()) err.message += `\n--- node ${i + 1} (last lines) ---\n${n.logs().slice(-1200)}`;
    throw err;
  }
};

describe(`compose topology: Next ${nextVersion(FIXTURE)} standalone -> HAProxy -> ${NODES} sockside nodes -> Redis`, { skip }, () => {
  before(async () => {
    const bins = await timed("binaries", () => binaries());
    // e2e/lib/server.mjs (the nodes) starts SOCKSIDE_BIN: the same binary.
    process.env.SOCKSIDE_BIN = bins.sockside;
    // The app copy (install cache, hard links) while the cluster comes up.
    const copying = timed("install+copy", () => copyApp(FIXTURE));
    copying.catch(() => {}); // awaited below; a cluster failure must not leave it unhandled
    try {
      ctx.redis = await ownRedis();
      await timed("redis", () => ctx.redis.start());
      const env = composeServerEnv();
      const redisUrl = new URL(env.REDIS_URL);
      redisUrl.host = `127.0.0.1:${ctx.redis.port}`;
      ctx.env = { ...env, SOCKET_HOST: "127.0.0.1", SOCKET_PORT: "0", REDIS_URL: redisUrl.href, SOCKET_EMIT_SECRET: EMIT_SECRET };
      ctx.nodes = await timed("nodes", () => startNodes(NODES, ctx.env));
      ctx.lb = await timed("haproxy", () => startHaproxy(ctx.nodes));
    } finally {
      ctx.dir = await copying;
    }
    // Next bakes the rewrite target in at build time: the balancer, not a node.
    ctx.wiring = await timed("nextconfig", () => wire(bins.nextconfig, ctx.dir, ctx.lb.url));
    assert.equal(ctx.wiring.checkCode, 0, ctx.wiring.check);
    await timed("build", () => build(ctx.dir, "standalone"));
    ctx.next = await timed("ready", () => serve(ctx.dir, "standalone"));
    const page = await get(`${ctx.next.url}/`);
    assert.equal(page.status, 200, `GET /: ${page.status}`);
  }, { timeout: 170_000 });

  after(async () => {
    for (const s of ctx.clients) s.disconnect();
    await ctx.next?.stop();
    await ctx.lb?.stop();
    await stopAll(ctx.nodes ?? []);
    await ctx.redis?.stop();
    if (ctx.dir && !process.env.KEEP_NEXT_APPS) rmSync(ctx.dir, { recursive: true, force: true });
  });

  test("the nodes run compose's server environment on one Redis", withLogs(async (t) => {
    t.diagnostic(`setup ms: ${JSON.stringify(ctx.timings)}`);
    t.diagnostic(`node env: ${JSON.stringify(ctx.env)}`);
    assert.match(ctx.wiring.generate, /^created +\S*\/with-socket-io\.\w+$/m, ctx.wiring.generate);
    for (const n of ctx.nodes) {
      assert.equal(await metric(n.url, "sockside_adapter_redis_up"), 1);
      assert.equal(await metric(n.url, "sockside_adapter_nodes"), NODES);
      if (ctx.env.SOCKET_ADAPTER) assert.equal(await metric(n.url, "sockside_adapter_redis_up", { mode: ctx.env.SOCKET_ADAPTER }), 1);
    }
  }));

  for (const [name, transports] of setups) {
    test(`${name}: connects through Next and HAProxy, echo acks, whoami`, { timeout: 30_000 }, withLogs(async () => {
      const socket = viaNext("/", transports);
      try {
        await connected(socket, 15_000);
        const args = ["hello", 42, { nested: [1, "two", null] }, true];
        assert.deepEqual(await ack(socket, 10_000, "echo", ...args), args);
        if (name === "upgrade") await upgraded(socket, 15_000);
        const want = name === "polling" ? "polling" : "websocket";
        assert.equal(socket.io.engine.transport.name, want);
        const [who] = await ack(socket, 10_000, "whoami");
        assert.equal(who.transport, want, JSON.stringify(who));
        assert.equal(who.id, socket.id, JSON.stringify(who));
        // a second round trip on the same session (polling: another request, same node)
        assert.deepEqual(await ack(socket, 10_000, "echo", "again"), ["again"]);
      } finally {
        socket.disconnect();
      }
    }));
  }

  test("chat across nodes: members counted over every node, every message to everyone, each node's in stamp order", { timeout: 60_000 }, withLogs(async (t) => {
    const room = "topology";
    const clients = [];
    for (let i = 0; i < NODES; i++) {
      for (const [name, transports] of setups) clients.push({ name, socket: viaNext("/chat", transports, { auth: { name: `${name}-${i}` } }) });
    }
    try {
      await Promise.all(clients.map((c) => connected(c.socket, 15_000)));
      await Promise.all(clients.filter((c) => c.name === "upgrade").map((c) => upgraded(c.socket, 15_000)));
      // HAProxy spread the sessions: every node holds some (round robin).
      const perNode = await until(async () => {
        const p = await chatSockets();
        return p.reduce((a, b) => a + b, 0) === clients.length ? p : null;
      }, 5000, `${clients.length} /chat sockets counted over the nodes`);
      t.diagnostic(`/chat sockets per node: ${perNode.join(", ")}`);
      assert.equal(perNode.filter((n) => n > 0).length, NODES, `sessions on every node: ${perNode}`);

      // Each join is acked with the count over all nodes.
      for (const [i, c] of clients.entries()) {
        const [res] = await ack(c.socket, 10_000, "join", { room });
        assert.deepEqual(res, { ok: true, room, members: i + 1 }, `join ${i} (${c.name})`);
      }

      // Every client sends a burst; each message is stamped <node>-<seq> by
      // the node that took it, so the acks say which node each client is on.
      const burst = 4;
      const got = clients.map((c) => collect(c.socket, "message"));
      const sent = await Promise.all(clients.map(async (c, i) => {
        const ids = [];
        for (let k = 0; k < burst; k++) {
          const [res] = await ack(c.socket, 10_000, "message", { room, text: `c${i}-m${k}` });
          assert.equal(res.ok, true, JSON.stringify(res));
          ids.push(res.id);
        }
        return ids;
      }));
      const nodeOf = sent.map((ids) => ids[0].split("-")[0]);
      assert.equal(new Set(nodeOf).size, NODES, `senders on ${NODES} nodes: ${nodeOf}`);
      const total = clients.length * burst;
      await until(() => got.every((g) => g.length >= total), 10_000, `all ${total} messages at every client`);
      const orders = got.map((g) => g.map((m) => m.id));
      const stamp = (id) => ({ node: id.slice(0, id.lastIndexOf("-")), seq: parseInt(id.slice(id.lastIndexOf("-") + 1), 36) });
      for (const [i, order] of orders.entries()) {
        assert.equal(order.length, total, `client ${i}: no duplicates`);
        assert.deepEqual(new Set(order), new Set(sent.flat()), `client ${i} got every acked message`);
        for (const [j, ids] of sent.entries()) {
          assert.deepEqual(order.filter((id) => ids.includes(id)), ids, `client ${i}: sender ${j}'s messages in send order`);
        }
        // What one node stamps (under its per-room lock) reaches every client,
        // local or across Redis, in stamp order.
        for (const node of new Set(nodeOf)) {
          const seqs = order.map(stamp).filter((s) => s.node === node).map((s) => s.seq);
          assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `client ${i}: node ${node}'s messages in its stamp order`);
        }
      }
      const byStamp = got.map((g) => [...g].sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((m) => m.id));
      ctx.chat = { orders, byStamp, sent, nodeOf, names: clients.map((c) => c.name) };
      // Leaving is counted over every node too.
      const [left] = await ack(clients[0].socket, 10_000, "leave", { room });
      assert.equal(left.members, clients.length - 1);
    } finally {
      for (const c of clients) c.socket.disconnect();
    }
  }));

  // Arrival order differs across nodes when senders on several nodes post
  // at once (each node delivers its own broadcasts first). The demo shows
  // messages by server stamp (ts, then id), which every client computes
  // alike; that order must keep each sender's messages in send order, which
  // needs a node's ids to sort as it stamped them.
  test("chat across nodes: the server-stamp order keeps every sender's order", (t) => {
    assert.ok(ctx.chat, "the chat test ran");
    const { orders, byStamp, sent } = ctx.chat;
    const arrival = orders.filter((o) => o.join() !== orders[0].join()).length;
    t.diagnostic(`arrival order differed from client 0's at ${arrival} of ${orders.length - 1} clients`);
    for (const [j, ids] of sent.entries()) {
      assert.deepEqual(byStamp[0].filter((id) => ids.includes(id)), ids, `sender ${j}'s messages in send order by stamp`);
    }
  });

  test("the emit API posted to HAProxy reaches clients on every node through Next", { timeout: 60_000 }, withLogs(async (t) => {
    const room = "topology-emit";
    const chat = setups.map(([name, transports]) => viaNext("/chat", transports, { auth: { name: `emit-${name}` } }));
    const roots = [];
    const all = [...chat];
    try {
      // The room's members first: consecutive new sessions, round robin.
      await Promise.all(chat.map((s) => connected(s, 15_000)));
      roots.push(...setups.map(([, transports]) => viaNext("/", transports)));
      all.push(...roots);
      await Promise.all(roots.map((s) => connected(s, 15_000)));
      for (const s of chat) assert.equal((await ack(s, 10_000, "join", { room }))[0].ok, true);
      const chatNodes = new Set();
      for (const s of chat) chatNodes.add((await ack(s, 10_000, "message", { room, text: "where" }))[0].id.split("-")[0]);
      t.diagnostic(`emit receivers on ${chatNodes.size} nodes`);
      assert.ok(chatNodes.size >= 2, "the room spans nodes");

      // One post per node: HAProxy round-robins requests without its cookie.
      const announcements = chat.map((s) => collect(s, "announcement"));
      for (let n = 0; n < NODES; n++) {
        const res = await emit({ namespace: "/chat", room, event: "announcement", data: { n } });
        assert.equal(res.status, 202, await res.text());
      }
      await until(() => announcements.every((a) => a.length === NODES), 10_000, "every announcement at every room member");
      for (const a of announcements) assert.deepEqual(a.map((d) => d.n).sort(), [...Array(NODES).keys()]);

      // a whole namespace
      const heard = roots.map((s) => once(s, "topology-all", 10_000));
      const res = await emit({ namespace: "/", event: "topology-all", data: "everyone" });
      assert.equal(res.status, 202, await res.text());
      for (const p of heard) assert.equal(await p, "everyone");
    } finally {
      for (const s of all) s.disconnect();
    }
  }));
});
