// A Node.js socket.io 4.8 server joining the Go nodes' cluster: the
// @socket.io/redis-adapter (pubsub) or @socket.io/redis-streams-adapter
// (streams) on the same Redis and key prefix, as a mixed deployment would
// run it. Used in-process by tests/interop.test.mjs, and as a child process
// (`node e2e/lib/nodepeer.mjs`, see runCli below) by the Go tests in
// internal/cluster, which drive in-process Go nodes beside it.
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Server } from "socket.io";
import { Redis } from "ioredis";
import { createAdapter as pubsubAdapter } from "@socket.io/redis-adapter";
import { createAdapter as streamsAdapter } from "@socket.io/redis-streams-adapter";
import { Emitter } from "@socket.io/redis-emitter";

/**
 * The channel whose subscribers are the namespace's nodes (Go and Node
 * alike): what each adapter counts with PUBSUB NUMSUB.
 */
export function nodesChannel(mode, prefix, nsp) {
  return mode === "pubsub" ? `${prefix}-request#${nsp}#` : `${prefix}#${nsp}#`;
}

/** PUBSUB NUMSUB of one channel. */
export async function numsub(redisUrl, channel) {
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const [, n] = await r.pubsub("NUMSUB", channel);
    return Number(n);
  } finally { r.disconnect(); }
}

/**
 * Starts a socket.io server on a free loopback port with the adapter for
 * mode ("pubsub" or "streams"), key prefix prefix (the Go nodes'
 * REDIS_PREFIX), and the given namespaces created up front. Session keys
 * follow the Go nodes' rule ("<prefix>:session:"). stop() closes the server,
 * its adapters and every Redis connection.
 */
export async function startNodePeer({ mode, redisUrl, prefix, namespaces = ["/chat"] }) {
  const redis = [];
  const client = () => {
    const r = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    r.on("error", () => {}); // reconnects on its own; tests see failures as timeouts
    redis.push(r);
    return r;
  };
  let adapter;
  const pub = client();
  if (mode === "pubsub") {
    adapter = pubsubAdapter(pub, client(), { key: prefix, requestsTimeout: 3000 });
  } else if (mode === "streams") {
    adapter = streamsAdapter(pub, {
      streamName: prefix,
      channelPrefix: prefix,
      sessionKeyPrefix: `${prefix}:session:`,
      // bounds how long a stream read outlives close()
      blockTimeInMs: 500,
    });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  const http = createServer();
  const io = new Server(http, { adapter, cors: { origin: true } });
  for (const n of namespaces) io.of(n);
  await new Promise((res, rej) => {
    http.once("error", rej);
    http.listen(0, "127.0.0.1", res);
  });
  const url = `http://127.0.0.1:${http.address().port}`;
  let stopped = false;
  return {
    url,
    io,
    mode,
    prefix,
    async stop() {
      if (stopped) return;
      stopped = true;
      await io.close(); // closes the adapters (unsubscribes, aborts stream reads)
      for (const r of redis) r.disconnect();
    },
  };
}

/**
 * A @socket.io/redis-emitter on the same Redis and prefix (what a Next.js
 * route handler would use). close() ends its connection.
 */
export function startEmitter({ redisUrl, prefix }) {
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  r.on("error", () => {});
  const emitter = new Emitter(r, { key: prefix });
  return { emitter, close: () => r.disconnect() };
}

/**
 * Child-process mode, driven over stdin/stdout with one JSON object a line.
 * Env: NODEPEER_MODE, NODEPEER_REDIS, NODEPEER_PREFIX. Commands, on "/chat":
 *   {"op": "broadcast", "room": r, "event": e, "args": [...]} -> io.of("/chat").to(r).emit (every socket without r), prints {"op":"broadcast","ok":true}
 *   {"op": "binary", "room": r, "event": e}           -> the same with one Buffer [0, 1, 2, 255] argument
 *   {"op": "fetch", "room": r}                        -> fetchSockets on every node, prints {"op":"fetch","ids":[sorted ids]}
 *   {"op": "join", "id": sid, "room": r}              -> socketsJoin for the socket sid on whichever node, prints {"op":"join","ok":true}
 * Prints {"ready": true, "url": ...} once listening; exits when stdin closes.
 */
async function runCli() {
  const peer = await startNodePeer({
    mode: process.env.NODEPEER_MODE,
    redisUrl: process.env.NODEPEER_REDIS,
    prefix: process.env.NODEPEER_PREFIX,
  });
  const out = (v) => process.stdout.write(JSON.stringify(v) + "\n");
  const chat = peer.io.of("/chat");
  const lines = createInterface({ input: process.stdin });
  lines.on("line", async (line) => {
    let cmd;
    try { cmd = JSON.parse(line); } catch { return out({ error: `bad command ${line}` }); }
    try {
      if (cmd.op === "broadcast" || cmd.op === "binary") {
        const target = cmd.room ? chat.to(cmd.room) : chat;
        const args = cmd.op === "binary" ? [Buffer.from([0, 1, 2, 255])] : cmd.args;
        target.emit(cmd.event, ...args);
        out({ op: cmd.op, ok: true });
      } else if (cmd.op === "fetch") {
        const sockets = await (cmd.room ? chat.in(cmd.room) : chat).fetchSockets();
        out({ op: cmd.op, ids: sockets.map((s) => s.id).sort() });
      } else if (cmd.op === "join") {
        chat.in(cmd.id).socketsJoin(cmd.room);
        out({ op: cmd.op, ok: true });
      } else {
        out({ op: cmd.op, error: "unknown op" });
      }
    } catch (e) {
      out({ op: cmd.op, error: e.message });
    }
  });
  lines.on("close", async () => {
    await peer.stop();
    process.exit(0);
  });
  out({ ready: true, url: peer.url });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runCli().catch((e) => {
    process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  });
}
