// The client layer (sockside/client) against a server with SOCKET_AUTH_SECRET: a refused
// handshake is offline with the reason and rejects sends; setHandshakeAuth
// with reconnect starts a new session under the new identity.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { signToken, startServer } from "./lib/harness.mjs";
import { configureSockets, getSocket, retainSocket, send, SendError, setHandshakeAuth, statusOf } from "sockside/client";

const secret = "unit-auth-secret-0123456789abcdef";
const token = (name) => signToken(secret, { sub: `id-${name}`, name, exp: Math.floor(Date.now() / 1000) + 600 });

async function until(check, what, ms = 15000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(statusOf(getSocket("/")))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let srv;
let release;
before(async () => {
  srv = await startServer({ SOCKET_AUTH_SECRET: secret, FEED_INTERVAL: "1h" });
  configureSockets({ url: srv.url, releaseDelayMs: 50 });
});
after(async () => {
  release?.();
  getSocket("/").disconnect();
  await srv?.stop();
});

test("refused: offline with the reason, sends rejected", async () => {
  release = retainSocket("/");
  await until(() => statusOf(getSocket("/")).state === "offline", "offline");
  assert.equal(statusOf(getSocket("/")).error, "unauthorized");
  await assert.rejects(send(getSocket("/"), "whoami"), (err) => err instanceof SendError && err.code === "offline");
  release();
  release = undefined;
});

test("setHandshakeAuth: the token is sent, and reconnect renews the identity", async () => {
  const root = getSocket("/");
  setHandshakeAuth({ token: token("Uma") });
  release = retainSocket("/");
  await until(() => statusOf(root).state === "connected", "connected");
  const first = await send(root, "whoami");
  assert.equal(first.user, "Uma");

  setHandshakeAuth({ token: token("Vic") }, { reconnect: true });
  await until(() => statusOf(root).state === "connected" && statusOf(root).id !== first.id, "a new session");
  const second = await send(root, "whoami");
  assert.equal(second.user, "Vic");
  assert.equal(second.recovered, false);
});
