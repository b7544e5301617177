// Mixed clusters: two Go nodes (the real binary) and one Node.js socket.io
// 4.8 server with Node's own Redis adapter on the same Redis and key prefix,
// in both adapter modes (pubsub: @socket.io/redis-adapter, streams:
// @socket.io/redis-streams-adapter), plus @socket.io/redis-emitter (pubsub).
//
// The Go chat namespace keeps its rooms as "chat:<room>", so the Node peer
// uses "chat:<room>" on "/chat".
//
// serverSideEmit: the Go server registers no serverSideEmit listener, so
// neither direction is observable through the binary; it is tested against
// in-process Go nodes with listeners and this same Node peer as a child
// process in internal/cluster (TestNodePeerServerSideEmit).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { TRANSPORTS, connect, connected, once, ask, collect, until } from "../lib/client.mjs";
import { SHARED_REDIS, testPrefix, startNodes, stopAll, poll, redisPing, waitNodes } from "../lib/cluster.mjs";
import { startNodePeer, startEmitter, numsub, nodesChannel } from "../lib/nodepeer.mjs";

const SECRET = "interop-emit-secret";
const sharedUp = await redisPing(6379);
const skip = sharedUp ? false : "no Redis on 127.0.0.1:6379";
const setups = Object.entries(TRANSPORTS);

const goEmit = (node, body) => fetch(`${node.url}/api/emit`, {
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: `Bearer ${SECRET}` },
  body: JSON.stringify(body),
});

for (const mode of ["pubsub", "streams"]) {
  describe(`Go nodes and a Node.js node, ${mode}`, { skip }, () => {
    const prefix = testPrefix();
    let goNodes = [];
    let peer;
    const open = [];
    const track = (s) => { open.push(s); return s; };
    /** A client of Go node i on /chat (transport setups rotate per client). */
    const goClient = (i, name) => track(connect(`${goNodes[i].url}/chat`, {
      transports: setups[open.length % setups.length][1], auth: { name },
    }));
    /** A client of the Node peer on /chat, joined to chat:<room> by the peer. */
    const nodeClient = async (room) => {
      const c = track(connect(`${peer.url}/chat`, {
        transports: setups[open.length % setups.length][1], auth: { room },
      }));
      await once(c, "joined");
      return c;
    };

    before(async () => {
      goNodes = await startNodes(2, {
        REDIS_URL: SHARED_REDIS, SOCKET_ADAPTER: mode, REDIS_PREFIX: prefix, SOCKET_EMIT_SECRET: SECRET,
      });
      peer = await startNodePeer({ mode, redisUrl: SHARED_REDIS, prefix });
      peer.io.of("/chat").on("connection", (s) => {
        if (s.handshake.auth.room) s.join(`chat:${s.handshake.auth.room}`);
        s.emit("joined");
      });
      // every node (2 Go, 1 Node) subscribed on "/" and "/chat"
      await waitNodes(goNodes, 3);
      await poll(async () => (await numsub(SHARED_REDIS, nodesChannel(mode, prefix, "/chat"))) === 3,
        5000, "3 nodes on /chat");
      if (mode === "streams") {
        // Node's stream reader starts at "$" once its connection is up:
        // entries written before its first XREAD are not for it. Poll with
        // broadcasts from a Go node until one arrives.
        const c = await nodeClient("warm-up");
        try {
          let n = 0;
          const got = collect(c, "warm");
          await poll(async () => {
            if (got.length > 0) return true;
            await goEmit(goNodes[0], { namespace: "/chat", room: "warm-up", event: "warm", data: n++ });
            return false;
          }, 5000, "Node's stream reader", 100);
        } finally { c.close(); }
      }
    });
    after(async () => {
      open.forEach((c) => c.close());
      await peer?.stop();
      await stopAll(goNodes);
    });

    test("a chat message on a Go node reaches a client of the Node node in the room", async () => {
      const room = "go-to-node";
      const n = await nodeClient(room);
      const outsider = await nodeClient("elsewhere");
      const g = goClient(0, "go-sender");
      await connected(g);
      await ask(g, "join", { room });
      const got = collect(n, "message");
      const stray = collect(outsider, "message");
      const ack = await ask(g, "message", { room, text: "hello Node" });
      assert.equal(ack.ok, true);
      await until(n, "message", () => got.length === 1);
      assert.equal(got[0].id, ack.id);
      assert.equal(got[0].text, "hello Node");
      assert.equal(got[0].room, room);
      assert.equal(got[0].from, "go-sender");
      // the Go node's emit API, to the room and to the whole namespace
      const viaApi = once(n, "announcement");
      assert.equal((await goEmit(goNodes[1], { namespace: "/chat", room, event: "announcement", data: { n: 1 } })).status, 202);
      assert.deepEqual(await viaApi, { n: 1 });
      const everyone = [once(n, "all-hands"), once(outsider, "all-hands")];
      assert.equal((await goEmit(goNodes[1], { namespace: "/chat", event: "all-hands", data: "x" })).status, 202);
      for (const p of everyone) assert.equal(await p, "x");
      assert.equal(stray.length, 0, "a client outside the room got the room's message");
    });

    test("io.to(room).emit on the Node node reaches clients of both Go nodes", async () => {
      const room = "node-to-go";
      const clients = [goClient(0, "g0"), goClient(1, "g1"), goClient(1, "g1-outside")];
      await Promise.all(clients.map((c) => connected(c)));
      await ask(clients[0], "join", { room });
      await ask(clients[1], "join", { room });
      await ask(clients[2], "join", { room: "elsewhere" });
      const stray = collect(clients[2], "news");
      const got = [once(clients[0], "news"), once(clients[1], "news")];
      peer.io.of("/chat").to(`chat:${room}`).emit("news", { text: "from Node", nested: { n: [1, 2] } });
      for (const p of got) assert.deepEqual(await p, { text: "from Node", nested: { n: [1, 2] } });
      // to the whole namespace
      const all = clients.map((c) => once(c, "everyone"));
      peer.io.of("/chat").emit("everyone", 42);
      for (const p of all) assert.equal(await p, 42);
      // binary payloads keep their bytes
      const bin = once(clients[0], "blob");
      peer.io.of("/chat").to(`chat:${room}`).emit("blob", Buffer.from([0, 1, 2, 255]));
      assert.deepEqual([...new Uint8Array(await bin)], [0, 1, 2, 255]);
      assert.equal(stray.length, 0, "a client outside the room got the room's broadcast");
    });

    test("fetchSockets: the Node node sees Go sockets, Go member counts include Node sockets", async () => {
      const room = "members";
      const n1 = await nodeClient(room);
      const n2 = await nodeClient(room);
      const g0 = goClient(0, "g0");
      const g1 = goClient(1, "g1");
      await Promise.all([connected(g0), connected(g1)]);
      // Go side: the join ack counts the room's members over every node
      assert.equal((await ask(g0, "join", { room })).members, 3);
      assert.equal((await ask(g1, "join", { room })).members, 4);
      // Node side: fetchSockets over the cluster
      const sockets = await peer.io.of("/chat").in(`chat:${room}`).fetchSockets();
      const ids = sockets.map((s) => s.id).sort();
      assert.deepEqual(ids, [n1.id, n2.id, g0.id, g1.id].sort());
      const remote = sockets.find((s) => s.id === g0.id);
      assert.ok(remote.rooms.has(`chat:${room}`), `rooms of the Go socket: ${[...remote.rooms]}`);
      assert.ok(remote.rooms.has(g0.id), "a Go socket is in its own room");
      assert.equal(remote.handshake.auth.name, "g0");
      // the Node node acts on a Go socket through the cluster
      remote.join("chat:moved-by-node");
      const moved = once(g0, "moved");
      await poll(async () => (await peer.io.of("/chat").in("chat:moved-by-node").fetchSockets()).length === 1,
        3000, "socketsJoin on the Go node");
      peer.io.of("/chat").to("chat:moved-by-node").emit("moved", true);
      assert.equal(await moved, true);
      // leaving on Go is counted on Node too
      assert.equal((await ask(g1, "leave", { room })).members, 3);
      assert.equal((await peer.io.of("/chat").in(`chat:${room}`).fetchSockets()).length, 3);
    });

    test("@socket.io/redis-emitter reaches sockets on the Go nodes", { skip: mode !== "pubsub" && "the emitter publishes over pub/sub only (streams nodes read the stream)" }, async () => {
      const room = "from-emitter";
      const { emitter, close } = startEmitter({ redisUrl: SHARED_REDIS, prefix });
      try {
        const g0 = goClient(0, "g0");
        const g1 = goClient(1, "g1");
        const outside = goClient(1, "outside");
        await Promise.all([g0, g1, outside].map((c) => connected(c)));
        await ask(g0, "join", { room });
        await ask(g1, "join", { room });
        const stray = collect(outside, "deploy");
        const got = [once(g0, "deploy"), once(g1, "deploy")];
        emitter.of("/chat").to(`chat:${room}`).emit("deploy", { version: "1.2.3" });
        for (const p of got) assert.deepEqual(await p, { version: "1.2.3" });
        const all = [g0, g1, outside].map((c) => once(c, "maintenance"));
        emitter.of("/chat").emit("maintenance", { in: 5 });
        for (const p of all) assert.deepEqual(await p, { in: 5 });
        // the default namespace too
        const root = track(connect(goNodes[1].url, { transports: ["websocket"] }));
        await connected(root);
        const hi = once(root, "hello");
        emitter.emit("hello", "root");
        assert.equal(await hi, "root");
        assert.equal(stray.length, 0, "a client outside the room got the room's emit");
      } finally { close(); }
    });
  });
}
