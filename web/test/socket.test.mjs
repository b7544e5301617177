// The demo's client layer (lib/socket.ts, compiled to .unit/ by `npm run
// test:unit`) is the sockside package's, typed with the demo's maps: the
// same per-tab sockets, against the real server binary. The layer itself is
// tested in packages/sockside/test.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as sockside from "sockside/client";
import { startServer } from "../../e2e/lib/server.mjs";
import { configureSockets, getSocket, retainSocket, send, statusOf, subscribeStatus } from "../.unit/socket.js";

let srv;
let release;
before(async () => {
  srv = await startServer({ FEED_INTERVAL: "1h" });
  configureSockets({ url: srv.url, releaseDelayMs: 50 });
});
after(async () => {
  release?.();
  getSocket("/chat").disconnect();
  await srv?.stop();
});

test("the wrapper's functions and sockets are the package's", () => {
  assert.equal(send, sockside.send);
  assert.equal(statusOf, sockside.statusOf);
  assert.equal(getSocket("/chat"), sockside.getSocket("/chat"), "one socket per namespace and tab");
});

test("a demo namespace through the wrapper: connected, and send gets the Go handler's ack", async () => {
  const chat = getSocket("/chat");
  const connected = new Promise((resolve) => {
    const off = subscribeStatus(chat, () => statusOf(chat).state === "connected" && (off(), resolve()));
  });
  release = retainSocket("/chat");
  await connected;
  assert.deepEqual(await send(chat, "join", { room: "unit" }), { ok: true, room: "unit", members: 1 });
  const refused = await send(chat, "message", { room: "elsewhere", text: "hi" });
  assert.equal(refused.ok, false);
  assert.match(refused.error, /join/);
});
