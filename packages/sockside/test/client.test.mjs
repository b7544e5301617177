// The client layer (sockside/client) in Node against the real server
// binary's demo namespaces: status transitions, send's acks, the offline
// queue's bound, order and timeout, restore hooks before the flush, release.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startServer, until } from "./lib/harness.mjs";
import {
  configureSockets,
  getSocket,
  onRestore,
  retainSocket,
  send,
  SendError,
  statusOf,
  subscribeStatus,
} from "sockside/client";

const seq = (id) => parseInt(id.split("-").pop(), 36);

describe("client layer", () => {
  let srv;
  let port;
  let release;
  const chat = () => getSocket("/chat");

  before(async () => {
    srv = await startServer({ FEED_INTERVAL: "1h" });
    port = new URL(srv.url).port;
    configureSockets({ url: srv.url, ackTimeoutMs: 5000, maxQueue: 3, queueTimeoutMs: 60000, releaseDelayMs: 50 });
  });
  after(async () => {
    release?.();
    chat().disconnect();
    await srv?.stop();
  });

  test("status: connecting, then connected, upgraded to websocket", async () => {
    const seen = [];
    const unsubscribe = subscribeStatus(chat(), () => seen.push({ ...statusOf(chat()) }));
    assert.equal(statusOf(chat()).state, "connecting");
    release = retainSocket("/chat");
    await until(() => statusOf(chat()).transport === "websocket", "websocket");
    unsubscribe();
    const s = statusOf(chat());
    assert.equal(s.state, "connected");
    assert.equal(s.id, chat().id);
    assert.equal(s.error, null);
    assert.equal(s.recovered, false);
    assert.ok(seen.some((x) => x.state === "connected"), JSON.stringify(seen));
    assert.ok(seen.every((x) => x.state !== "reconnecting" && x.state !== "offline"), JSON.stringify(seen));
  });

  test("send resolves with the ack, an ErrorAck included", async () => {
    const ok = await send(chat(), "join", { room: "unit" });
    assert.deepEqual(ok, { ok: true, room: "unit", members: 1 });
    const refused = await send(chat(), "message", { room: "elsewhere", text: "hi" });
    assert.equal(refused.ok, false);
    assert.match(refused.error, /join/);
  });

  test("server gone: reconnecting; sends queue up to the bound; after the restart the restore hooks run, then the queue flushes in order", async () => {
    const order = [];
    const removeRestore = onRestore(chat(), async () => {
      const ack = await chat().timeout(5000).emitWithAck("join", { room: "unit" });
      order.push(`restore:${ack.ok}`);
    });
    await until(() => order.length === 1, "the hook's first run (connected now)");
    order.length = 0;

    await srv.stop();
    await until(() => statusOf(chat()).state === "reconnecting", "reconnecting");
    assert.equal(statusOf(chat()).transport, null);

    const sent = ["m1", "m2", "m3"].map((text) =>
      send(chat(), "message", { room: "unit", text }).then((ack) => {
        order.push(text);
        return ack;
      }),
    );
    assert.equal(statusOf(chat()).queued, 3);
    await assert.rejects(send(chat(), "message", { room: "unit", text: "m4" }), (err) => {
      assert.ok(err instanceof SendError);
      assert.equal(err.code, "queue-full");
      return true;
    });
    await until(() => statusOf(chat()).attempt >= 1, "a reconnection attempt");

    srv = await startServer({ SOCKET_PORT: port, FEED_INTERVAL: "1h" });
    const acks = await Promise.all(sent);
    // A new server cannot recover the session: the room came back through
    // the hook, before the first queued message went out.
    assert.deepEqual(order, ["restore:true", "m1", "m2", "m3"]);
    assert.ok(acks.every((a) => a.ok), JSON.stringify(acks));
    const ids = acks.map((a) => seq(a.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), "stamped in queue order");
    const s = statusOf(chat());
    assert.equal(s.state, "connected");
    assert.equal(s.recovered, false);
    assert.equal(s.queued, 0);
    assert.equal(s.attempt, 0);
    removeRestore();
  });

  test("an emit that waits longer than queueTimeoutMs is rejected", async () => {
    configureSockets({ queueTimeoutMs: 200 });
    try {
      await srv.stop();
      await until(() => statusOf(chat()).state === "reconnecting", "reconnecting");
      await assert.rejects(send(chat(), "join", { room: "late" }), (err) => err instanceof SendError && err.code === "queue-timeout");
      assert.equal(statusOf(chat()).queued, 0);
    } finally {
      configureSockets({ queueTimeoutMs: 60000 });
      srv = await startServer({ SOCKET_PORT: port, FEED_INTERVAL: "1h" });
    }
    await until(() => statusOf(chat()).state === "connected", "connected again");
  });

  test("released: disconnects after the delay; sends are then rejected at once", async () => {
    release();
    release = undefined;
    await until(() => statusOf(chat()).state === "offline", "offline");
    assert.equal(statusOf(chat()).error, "io client disconnect");
    await assert.rejects(send(chat(), "join", { room: "x" }), (err) => err instanceof SendError && err.code === "offline");

    // Taken again: a new session, not the old one recovered.
    const before = statusOf(chat());
    release = retainSocket("/chat");
    await until(() => statusOf(chat()).state === "connected", "connected");
    assert.equal(statusOf(chat()).recovered, false);
    assert.notEqual(statusOf(chat()).id, before.id);
  });
});
