// GET /api/stats: the JSON view the /status dashboard reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer, signToken } from "../lib/server.mjs";
import { connect, connected, ask, upgraded } from "../lib/client.mjs";

test("stats count sockets per namespace and transport, and events", async () => {
  const server = await startServer({});
  const a = connect(`${server.url}/chat`, { transports: ["polling"] });
  const b = connect(server.url, { transports: ["polling", "websocket"] });
  try {
    await Promise.all([connected(a), connected(b)]);
    await upgraded(b);
    await ask(b, "echo", 1);
    const s = await (await fetch(`${server.url}/api/stats`)).json();
    assert.equal(s.ready, true);
    assert.equal(s.draining, false);
    assert.deepEqual(s.sockets["/chat"], { polling: 1 });
    assert.equal(s.sockets["/"].websocket, 1);
    assert.equal(s.sockets["/"].polling ?? 0, 0, "the upgraded socket moved to websocket");
    assert.ok(s.eventsIn >= 1 && s.eventsOut >= 0 && s.goroutines > 0);
  } finally { a.close(); b.close(); await server.stop(); }
});

test("stats need the auth token when auth is on", async () => {
  const secret = "stats-secret-0123456789";
  const server = await startServer({ SOCKET_AUTH_SECRET: secret });
  try {
    assert.equal((await fetch(`${server.url}/api/stats`)).status, 401);
    const token = signToken(secret, { sub: "ops", exp: Math.floor(Date.now() / 1000) + 60 });
    assert.equal((await fetch(`${server.url}/api/stats`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await fetch(`${server.url}/api/stats`, { headers: { Cookie: `sockside_token=${token}` } })).status, 200);
  } finally { await server.stop(); }
});
