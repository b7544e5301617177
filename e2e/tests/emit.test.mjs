// The server-side emit API: how a Next.js back end pushes to clients.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { connect, connected, ask, once } from "../lib/client.mjs";

const SECRET = "emit-secret-for-e2e";
let server;
before(async () => { server = await startServer({ SOCKET_EMIT_SECRET: SECRET }); });
after(async () => { await server?.stop(); });

const post = (body, secret = SECRET, headers = {}) =>
  fetch(`${server.url}/api/emit`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${secret}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

test("an emit to a chat room reaches every socket in it and no one else", async () => {
  const inRoom = [connect(`${server.url}/chat`, { transports: ["websocket"] }), connect(`${server.url}/chat`, { transports: ["polling"] })];
  const outside = connect(`${server.url}/chat`, { transports: ["websocket"] });
  try {
    await Promise.all([...inRoom, outside].map((s) => connected(s)));
    for (const s of inRoom) await ask(s, "join", { room: "news" });
    const got = inRoom.map((s) => once(s, "announcement"));
    let leaked = false;
    outside.on("announcement", () => { leaked = true; });
    const res = await post({ namespace: "/chat", room: "news", event: "announcement", data: { text: "deploy done", n: [1, 2] } });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { ok: true });
    for (const p of got) assert.deepEqual(await p, { text: "deploy done", n: [1, 2] });
    // a follow-up to everyone proves ordering: the outsider got nothing before it
    const all = once(outside, "all-hands");
    assert.equal((await post({ namespace: "/chat", event: "all-hands", data: 1 })).status, 202);
    assert.equal(await all, 1);
    assert.equal(leaked, false);
  } finally { [...inRoom, outside].forEach((s) => s.close()); }
});

test("an emit to the main namespace reaches everyone", async () => {
  const s = connect(server.url);
  try {
    await connected(s);
    const got = once(s, "ping-all");
    assert.equal((await post({ namespace: "/", event: "ping-all", data: "hi" })).status, 202);
    assert.equal(await got, "hi");
  } finally { s.close(); }
});

test("wrong or missing secret is 401", async () => {
  assert.equal((await post({ namespace: "/", event: "x" }, "wrong")).status, 401);
  const res = await fetch(`${server.url}/api/emit`, { method: "POST", body: "{}" });
  assert.equal(res.status, 401);
});

test("bad bodies are 400 with a reason", async () => {
  const cases = [
    ["not json", /not a valid emit request/],
    [{ event: "x" }, /namespace is required/],
    [{ namespace: "/" }, /event is required/],
    [{ namespace: "/", event: "connect" }, /reserved/],
    [{ namespace: "/nope", event: "x" }, /unknown namespace "\/nope"/],
    [{ namespace: "/", event: "x", extra: 1 }, /unknown field/],
    [`{"namespace":"/","event":"x","data":${"[".repeat(100)}${"]".repeat(100)}}`, /nested deeper/],
  ];
  for (const [body, reason] of cases) {
    const res = await post(body);
    assert.equal(res.status, 400, JSON.stringify(body).slice(0, 60));
    const j = await res.json();
    assert.equal(j.ok, false);
    assert.match(j.error, reason);
  }
  const get = await fetch(`${server.url}/api/emit`, { headers: { Authorization: `Bearer ${SECRET}` } });
  assert.equal(get.status, 405);
});

test("the API is off (404) without SOCKET_EMIT_SECRET", async () => {
  const off = await startServer({});
  try {
    const res = await fetch(`${off.url}/api/emit`, { method: "POST", headers: { Authorization: "Bearer x" }, body: "{}" });
    assert.equal(res.status, 404);
  } finally { await off.stop(); }
});
