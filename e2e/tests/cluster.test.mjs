// Scale-out over Redis: several real server processes on one Redis (each test
// with its own key prefix, or its own redis-server for the fault tests),
// driven by socket.io-client on every transport setup.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { metric, startServer } from "../lib/server.mjs";
import { TRANSPORTS, connect, connected, once, ask, collect, until, upgraded } from "../lib/client.mjs";
import {
  SHARED_REDIS, testPrefix, startNodes, stopAll, poll, ownRedis, hasRedisServer,
  redisPing, cpuSeconds, countLogs, waitNodes, hasHaproxy, startHaproxy,
} from "../lib/cluster.mjs";

const SECRET = "cluster-emit-secret";
const setups = Object.entries(TRANSPORTS);
const sharedUp = await redisPing(6379);
const skipShared = sharedUp ? false : "no Redis on 127.0.0.1:6379";
const skipOwn = hasRedisServer() ? false : "redis-server not installed";
const skipLB = skipShared || (hasHaproxy() ? false : "haproxy not installed");

const emit = (node, body) => fetch(`${node.url}/api/emit`, {
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: `Bearer ${SECRET}` },
  body: JSON.stringify(body),
});

/** One client per node, each on another transport setup, connected to /chat. */
async function clientsOnNodes(nodes, ns = "chat") {
  const clients = nodes.map((n, i) => {
    const [, transports] = setups[i % setups.length];
    return connect(`${n.url}/${ns}`, { transports, auth: { name: `c${i}` } });
  });
  await Promise.all(clients.map((c) => connected(c)));
  return clients;
}

for (const mode of ["streams", "pubsub"]) {
  describe(`three nodes, ${mode} adapter`, { skip: skipShared }, () => {
    let nodes;
    before(async () => {
      nodes = await startNodes(3, {
        REDIS_URL: SHARED_REDIS, SOCKET_ADAPTER: mode, REDIS_PREFIX: testPrefix(), SOCKET_EMIT_SECRET: SECRET,
      });
    });
    after(async () => { await stopAll(nodes ?? []); });

    test("chat member counts and messages span the nodes", async () => {
      const clients = await clientsOnNodes(nodes);
      try {
        const room = `span-${mode}`;
        for (let i = 0; i < clients.length; i++) {
          const ack = await ask(clients[i], "join", { room });
          assert.deepEqual(ack, { ok: true, room, members: i + 1 }, `join on node ${i}`);
        }
        const got = clients.map((c) => collect(c, "message"));
        const ack = await ask(clients[2], "message", { room, text: "from node 2" });
        assert.equal(ack.ok, true);
        for (const [i, c] of clients.entries()) {
          await until(c, "message", () => got[i].length === 1);
          assert.equal(got[i][0].text, "from node 2");
          assert.equal(got[i][0].id, ack.id);
        }
        // leaving is counted everywhere too
        const left = await ask(clients[0], "leave", { room });
        assert.equal(left.members, 2);
      } finally { clients.forEach((c) => c.close()); }
    });

    test("presence reaches the other nodes with the cluster-wide count", async () => {
      const clients = await clientsOnNodes(nodes.slice(0, 2));
      try {
        const room = `presence-${mode}`;
        await ask(clients[0], "join", { room });
        const seen = once(clients[0], "presence");
        await ask(clients[1], "join", { room });
        const p = await seen;
        assert.equal(p.event, "join");
        assert.equal(p.members, 2);
        assert.equal(p.id, clients[1].id);
      } finally { clients.forEach((c) => c.close()); }
    });

    test("the emit API on one node reaches sockets on every node", async () => {
      const clients = await clientsOnNodes(nodes);
      try {
        const room = `emit-${mode}`;
        for (const c of clients) await ask(c, "join", { room });
        const got = clients.map((c) => once(c, "announcement"));
        const res = await emit(nodes[0], { namespace: "/chat", room, event: "announcement", data: { n: 1 } });
        assert.equal(res.status, 202);
        for (const p of got) assert.deepEqual(await p, { n: 1 });
        // and to a whole namespace
        const roots = await clientsOnNodes(nodes, "");
        try {
          const all = roots.map((c) => once(c, "all-hands"));
          assert.equal((await emit(nodes[2], { namespace: "/", event: "all-hands", data: "x" })).status, 202);
          for (const p of all) assert.equal(await p, "x");
        } finally { roots.forEach((c) => c.close()); }
      } finally { clients.forEach((c) => c.close()); }
    });
  });
}

describe("recovery across nodes (streams)", { skip: skipShared }, () => {
  let nodes;
  before(async () => {
    nodes = await startNodes(2, {
      REDIS_URL: SHARED_REDIS, SOCKET_ADAPTER: "streams", REDIS_PREFIX: testPrefix(), SOCKET_RECOVERY_WINDOW: "30s",
    });
  });
  after(async () => { await stopAll(nodes ?? []); });

  for (const [setup, transports] of setups) {
    test(`a client that comes back on another node is recovered (${setup})`, async () => {
      const room = `moved-${setup}`;
      const a = connect(`${nodes[0].url}/chat`, { transports, auth: { name: "mover" } });
      const watcher = connect(`${nodes[1].url}/chat`, { transports: ["websocket"], auth: { name: "watcher" } });
      try {
        await Promise.all([connected(a), connected(watcher)]);
        await ask(a, "join", { room });
        await ask(watcher, "join", { room });
        const got = collect(a, "message");
        await ask(watcher, "message", { room, text: "before" });
        await until(a, "message", () => got.length === 1);
        const id = a.id;

        const left = once(watcher, "presence");
        const reason = once(a, "disconnect");
        a.io.engine.close();
        await reason;
        assert.equal((await left).event, "leave");
        await ask(watcher, "message", { room, text: "missed-1" });
        await ask(watcher, "message", { room, text: "missed-2" });

        // come back through node 1 (as after a load balancer failover)
        a.io.uri = nodes[1].url;
        const back = once(watcher, "presence");
        a.connect();
        await connected(a);
        assert.equal(a.recovered, true, "recovered on the other node");
        assert.equal(a.id, id);
        await until(a, "message", () => got.length === 3);
        assert.deepEqual(got.map((m) => m.text), ["before", "missed-1", "missed-2"]);
        const p = await back;
        assert.equal(p.event, "join");
        assert.equal(p.members, 2, "its room membership came back");
        await ask(watcher, "message", { room, text: "after" });
        await until(a, "message", () => got.length === 4);
        assert.equal(got.filter((m) => m.text === "missed-1").length, 1, "missed messages exactly once");
      } finally { a.close(); watcher.close(); }
    });
  }
});

describe("faults", { skip: skipOwn }, () => {
  for (const mode of ["streams", "pubsub"]) {
    test(`Redis stopped and restarted (${mode})`, async () => {
      const redis = await ownRedis();
      await redis.start();
      const nodes = await startNodes(2, { REDIS_URL: redis.url, SOCKET_ADAPTER: mode, REDIS_PREFIX: "fault" });
      const [a1, a2] = [connect(`${nodes[0].url}/chat`, { transports: ["websocket"] }), connect(`${nodes[0].url}/chat`, { transports: ["polling"] })];
      const b1 = connect(`${nodes[1].url}/chat`, { transports: ["websocket"] });
      try {
        await Promise.all([a1, a2, b1].map((c) => connected(c)));
        for (const c of [a1, a2, b1]) await ask(c, "join", { room: "r" });
        const gotB = collect(b1, "message");
        const gotA2 = collect(a2, "message");
        await ask(a1, "message", { room: "r", text: "before" });
        await until(b1, "message", () => gotB.length === 1);

        await redis.stop();
        for (const n of nodes) await poll(async () => (await metric(n.url, "sockside_adapter_redis_up")) === 0, 3000, "redis_up 0");
        const cpu0 = nodes.map((n) => cpuSeconds(n.proc.pid));
        const t0 = Date.now();
        let sent = 0;
        while (Date.now() - t0 < 3000) { // local broadcasts keep working throughout
          const ack = await ask(a1, "message", { room: "r", text: `local-${sent}` });
          assert.equal(ack.ok, true);
          sent++;
          await until(a2, "message", () => gotA2.filter((m) => m.text.startsWith("local-")).length === sent);
          await new Promise((r) => setTimeout(r, 100)); // pacing, not synchronisation
        }
        const secs = (Date.now() - t0) / 1000;
        const cpu = nodes.map((n, i) => (cpuSeconds(n.proc.pid) - cpu0[i]) / secs);
        console.log(`# ${mode}: CPU during the Redis outage: ${cpu.map((c) => `${(c * 100).toFixed(1)}%`).join(", ")} of a core (node with clients, idle node)`);
        for (const c of cpu) assert.ok(c < 0.05, `CPU ${c * 100}% of a core during the outage`);

        await redis.start();
        const back = Date.now();
        const before = gotB.length;
        let n = 0;
        await poll(async () => {
          await ask(a1, "message", { room: "r", text: `after-${n++}` });
          return gotB.length > before;
        }, 5000, "cross-node delivery after Redis returned", 50);
        const resumed = Date.now() - back;
        console.log(`# ${mode}: cross-node delivery resumed ${resumed} ms after Redis returned`);
        assert.ok(resumed <= 2000, `resumed after ${resumed} ms`);
        for (const node of nodes) {
          await poll(async () => (await metric(node.url, "sockside_adapter_redis_up")) === 1, 2000, "redis_up 1");
          assert.equal(countLogs(node, "redis connection lost"), 1, node.logs());
          assert.equal(countLogs(node, "redis reachable again"), 1, node.logs());
          assert.equal(await metric(node.url, "sockside_adapter_outages_total"), 1);
        }
      } finally {
        [a1, a2, b1].forEach((c) => c.close());
        await stopAll(nodes);
        await redis.stop();
      }
    });
  }

  test("Redis unreachable at start-up: the node serves locally and joins later", async () => {
    const redis = await ownRedis(); // port reserved, nothing listening
    const env = { REDIS_URL: redis.url, SOCKET_ADAPTER: "streams", REDIS_PREFIX: "late" };
    const nodes = [await startServer({ LOG_LEVEL: "info", ...env })];
    let more = [];
    const clients = [];
    try {
      const [a] = nodes;
      assert.match(a.logs(), /redis unreachable at start-up/);
      assert.equal(await metric(a.url, "sockside_adapter_redis_up"), 0);
      const [c1, c2] = [connect(`${a.url}/chat`, { transports: ["websocket"] }), connect(`${a.url}/chat`, { transports: ["polling"] })];
      clients.push(c1, c2);
      await Promise.all([connected(c1), connected(c2)]);
      await ask(c1, "join", { room: "r" });
      assert.equal((await ask(c2, "join", { room: "r" })).members, 2);

      await redis.start();
      more = [await startServer({ LOG_LEVEL: "info", ...env })];
      await waitNodes([a, ...more], 2);
      const c3 = connect(`${more[0].url}/chat`, { transports: ["websocket"] });
      clients.push(c3);
      await connected(c3);
      assert.equal((await ask(c3, "join", { room: "r" })).members, 3);
      const got = once(c3, "message");
      await ask(c1, "message", { room: "r", text: "joined" });
      assert.equal((await got).text, "joined");
      assert.equal(countLogs(a, "redis unreachable at start-up"), 1);
    } finally {
      clients.forEach((c) => c.close());
      await stopAll([...nodes, ...more]);
      await redis.stop();
    }
  });
});

/** Which node each socket.io-client landed on, by the nodes' socket gauges. */
async function chatSockets(nodes) {
  return Promise.all(nodes.map((n) => metric(n.url, "sockside_sockets", { namespace: "/chat" }).catch(() => 0)));
}

describe("three nodes behind HAProxy (streams)", { skip: skipLB }, () => {
  let nodes;
  let lb;
  before(async () => {
    nodes = await startNodes(3, {
      REDIS_URL: SHARED_REDIS, SOCKET_ADAPTER: "streams", REDIS_PREFIX: testPrefix(), SOCKET_RECOVERY_WINDOW: "30s",
    });
    lb = await startHaproxy(nodes);
  });
  after(async () => { await lb?.stop(); await stopAll(nodes ?? []); });

  // withCredentials: socket.io-client keeps HAProxy's cookie (Node.js too)
  const viaLB = (transports, extra = {}) =>
    connect(`${lb.url}/chat`, { transports, withCredentials: true, reconnection: true, ...extra });

  test("sticky sessions: every transport setup works through the balancer, spread over the nodes", async () => {
    const clients = [];
    for (let i = 0; i < 3; i++) for (const [, transports] of setups) clients.push(viaLB(transports));
    try {
      await Promise.all(clients.map((c) => connected(c)));
      await Promise.all(clients.filter((c) => c.io.opts.transports.length === 2).map((c) => upgraded(c)));
      for (const c of clients) assert.equal((await ask(c, "join", { room: "lb" })).ok, true);
      const got = clients.map((c) => collect(c, "message"));
      await ask(clients[0], "message", { room: "lb", text: "hi" });
      for (const [i, c] of clients.entries()) await until(c, "message", () => got[i].length === 1);
      const perNode = await chatSockets(nodes);
      assert.ok(perNode.filter((n) => n > 0).length >= 2, `sessions on several nodes: ${perNode}`);
      assert.equal(perNode.reduce((a, b) => a + b, 0), clients.length);
    } finally { clients.forEach((c) => c.close()); }
  });

  test("SIGTERM drain: clients move to the other nodes, no acked chat message is lost", async () => {
    const senders = [];
    for (let i = 0; i < 2; i++) for (const [, transports] of setups) senders.push(viaLB(transports));
    let watcher;
    try {
      await Promise.all(senders.map((c) => connected(c)));
      const perNode = await poll(async () => {
        const p = await chatSockets(nodes);
        return p.reduce((a, b) => a + b, 0) === senders.length ? p : null;
      }, 5000, "sockets counted");
      const victim = perNode.indexOf(Math.max(...perNode));
      const other = nodes[(victim + 1) % nodes.length];
      watcher = connect(`${other.url}/chat`, { transports: ["websocket"] });
      await connected(watcher);
      await ask(watcher, "join", { room: "drain" });
      for (const c of senders) await ask(c, "join", { room: "drain" });
      const seen = new Set();
      watcher.on("message", (m) => seen.add(m.text));

      const acked = [];
      const refused = [];
      let timedOut = 0;
      let stopping = null;
      const send = async (c, i) => {
        for (let n = 0; n < 25; n++) {
          const text = `s${i}-${n}`;
          try {
            const ack = await c.timeout(8000).emitWithAck("message", { room: "drain", text });
            if (ack.ok) acked.push(text);
            else refused.push(ack.error);
          } catch { timedOut++; /* not acked: allowed to be lost */ }
          if (i === 0 && n === 5) stopping = nodes[victim].stop();
          await new Promise((r) => setTimeout(r, 20)); // pacing
        }
      };
      await Promise.all(senders.map(send));
      const res = await stopping;
      assert.equal(res.code, 0, "the drained node exited cleanly");
      await poll(() => acked.every((t) => seen.has(t)), 5000, "every acked message at the watcher");
      console.log(`# drain: ${acked.length} acked (all delivered), ${refused.length} refused ${JSON.stringify([...new Set(refused)])}, ${timedOut} unanswered`);
      assert.deepEqual(refused, [], "drained clients recovered their rooms on the new node");
      assert.ok(acked.length >= senders.length * 20, `acked ${acked.length}`);
      assert.ok(senders.every((c) => c.connected), "every sender is connected again");
      nodes.splice(victim, 1); // gone for the next test
    } finally { senders.forEach((c) => c.close()); watcher?.close(); }
  });

  test("SIGKILL of a node: its clients are back through the balancer within 5 s", async () => {
    const clients = [];
    for (let i = 0; i < 2; i++) for (const [, transports] of setups) clients.push(viaLB(transports));
    try {
      await Promise.all(clients.map((c) => connected(c)));
      const perNode = await poll(async () => {
        const p = await chatSockets(nodes);
        return p.reduce((a, b) => a + b, 0) === clients.length ? p : null;
      }, 5000, "sockets counted");
      const victim = perNode.indexOf(Math.max(...perNode));
      const dropped = [];
      for (const c of clients) c.once("disconnect", () => dropped.push(c));
      const t0 = Date.now();
      nodes[victim].proc.kill("SIGKILL");
      await nodes[victim].exited;
      await poll(() => dropped.length >= perNode[victim], 5000, "clients of the killed node disconnected");
      await poll(() => clients.every((c) => c.connected), 5000, "clients back");
      const back = Date.now() - t0;
      console.log(`# SIGKILL: ${dropped.length} clients back through HAProxy in ${back} ms`);
      assert.ok(back <= 5000);
      nodes.splice(victim, 1);
      // the moved clients work on their new node
      for (const c of clients) assert.equal((await ask(c, "join", { room: "after-kill" })).ok, true);
    } finally { clients.forEach((c) => c.close()); }
  });
});
