// JWT auth on every namespace: auth.token or the cookie; failures are a
// connect_error "unauthorized" with {code: 401, reason}.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, signToken, metric } from "../lib/server.mjs";
import { TRANSPORTS, connect, connected, ask, once } from "../lib/client.mjs";

const SECRET = "e2e-secret-0123456789abcdef";
const now = () => Math.floor(Date.now() / 1000);
const valid = (claims = {}) => signToken(SECRET, { sub: "u-1", name: "Grace", exp: now() + 600, ...claims });

let server;
before(async () => { server = await startServer({ SOCKET_AUTH_SECRET: SECRET, SOCKET_AUTH_COOKIE: "sockside_token" }); });
after(async () => { await server?.stop(); });

async function refused(opts, nsp = "/") {
  const s = connect(`${server.url}${nsp}`, opts);
  try {
    await connected(s);
    assert.fail("connected without valid credentials");
  } catch (err) {
    assert.equal(err.message, "unauthorized");
    return err.data;
  } finally { s.close(); }
}

for (const [mode, transports] of Object.entries(TRANSPORTS)) {
  test(`rejections carry a reason (${mode})`, async () => {
    assert.deepEqual(await refused({ transports }), { code: 401, reason: "missing token" });
    assert.deepEqual(await refused({ transports, auth: { token: "not.a.jwt" } }), { code: 401, reason: "invalid token" });
    assert.deepEqual(await refused({ transports, auth: { token: signToken("wrong-secret-0123456789", { sub: "x", exp: now() + 60 }) } }), { code: 401, reason: "invalid token" });
    assert.deepEqual(await refused({ transports, auth: { token: valid({ exp: now() - 3600 }) } }), { code: 401, reason: "token expired" });
    assert.deepEqual(await refused({ transports, auth: { token: valid() + "x" } }, "/chat"), { code: 401, reason: "invalid token" });
  });

  test(`a valid token in auth.token names the user (${mode})`, async () => {
    const s = connect(server.url, { transports, auth: { token: valid() } });
    const c = connect(`${server.url}/chat`, { transports, auth: { token: valid() } });
    try {
      await Promise.all([connected(s), connected(c)]);
      assert.equal((await ask(s, "whoami")).user, "Grace");
      await ask(c, "join", { room: "auth" });
      const msg = once(c, "message");
      await ask(c, "message", { room: "auth", text: "hello" });
      assert.equal((await msg).from, "Grace");
    } finally { s.close(); c.close(); }
  });

  test(`the token may come in the cookie, as through Next same-origin (${mode})`, async () => {
    const s = connect(server.url, { transports, extraHeaders: { cookie: `other=1; sockside_token=${valid({ name: "Cookie Monster" })}` } });
    try {
      await connected(s);
      assert.equal((await ask(s, "whoami")).user, "Cookie Monster");
    } finally { s.close(); }
  });
}

test("refusals are counted by reason", async () => {
  assert.ok((await metric(server.url, "sockside_handshakes_rejected_total", { reason: "unauthorized" })) >= 5);
});

test("an alg=none token is refused", async () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "admin", exp: now() + 60 })}.`;
  assert.deepEqual(await refused({ transports: ["websocket"], auth: { token: none } }), { code: 401, reason: "invalid token" });
});
