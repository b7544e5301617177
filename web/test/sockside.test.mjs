// lib/sockside.ts's notifyRoom (the chat page's "push from the server" and
// POST /api/notify) over the package's emit, against the real server: the
// message reaches the room, and each failure is the status the route
// answers with and a reason.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createServer } from "node:net";
import { io } from "socket.io-client";
import { startServer } from "../../e2e/lib/server.mjs";
import { notifyRoom } from "../.unit/sockside.js";

const secret = "web-unit-emit-secret-0123456789";
let srv;
let member;

/** withEnv runs fn with the environment changed (undefined: unset), then puts it back. */
async function withEnv(vars, fn) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v) => Object.entries(v).forEach(([k, x]) => (x === undefined ? delete process.env[k] : (process.env[k] = x)));
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

before(async () => {
  srv = await startServer({ SOCKET_EMIT_SECRET: secret, FEED_INTERVAL: "1h" });
  member = io(`${srv.url}/chat`, { transports: ["websocket"], forceNew: true, reconnection: false });
  await new Promise((resolve, reject) => {
    member.once("connect", resolve);
    member.once("connect_error", reject);
  });
  assert.equal((await member.timeout(5000).emitWithAck("join", { room: "news" })).ok, true);
});
after(async () => {
  member?.disconnect();
  await srv?.stop();
});

test("delivered: the room's sockets get the message", async () => {
  const got = new Promise((resolve) => member.once("message", resolve));
  const res = await withEnv({ SOCKET_INTERNAL_URL: srv.url, SOCKET_EMIT_SECRET: secret }, () => notifyRoom("news", "deploy done", "ci"));
  assert.deepEqual(res, { ok: true });
  const m = await got;
  assert.equal(m.room, "news");
  assert.equal(m.from, "ci");
  assert.equal(m.text, "deploy done");
  assert.match(m.id, /^srv-/);
});

test("a wrong secret: the server's 401 and its reason", async () => {
  const res = await withEnv({ SOCKET_INTERNAL_URL: srv.url, SOCKET_EMIT_SECRET: "wrong" }, () => notifyRoom("news", "x"));
  assert.equal(res.ok, false);
  assert.equal(res.status, 401);
  assert.match(res.error, /bad or missing bearer secret/);
});

test("no secret here: 503; no server: 502 naming SOCKET_INTERNAL_URL", async () => {
  const none = await withEnv({ SOCKET_INTERNAL_URL: srv.url, SOCKET_EMIT_SECRET: undefined }, () => notifyRoom("news", "x"));
  assert.equal(none.status, 503);
  assert.match(none.error, /SOCKET_EMIT_SECRET is not set/);
  // A port nobody listens on: bound, read and closed.
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const gone = await withEnv({ SOCKET_INTERNAL_URL: `http://127.0.0.1:${port}`, SOCKET_EMIT_SECRET: secret }, () => notifyRoom("news", "x"));
  assert.equal(gone.status, 502);
  assert.match(gone.error, /sockside unreachable at http:\/\/127\.0\.0\.1:\d+ \(SOCKET_INTERNAL_URL\)/);
});
