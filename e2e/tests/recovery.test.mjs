// Connection state recovery: a client whose transport drops and comes back
// within SOCKET_RECOVERY_WINDOW keeps its id and rooms and gets what it missed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TRANSPORTS, connect, connected, once, ask, upgraded, collect, until } from "../lib/client.mjs";

let server;
before(async () => { server = await startServer({ SOCKET_RECOVERY_WINDOW: "30s" }); });
after(async () => { await server?.stop(); });

for (const [mode, transports] of Object.entries(TRANSPORTS)) {
  test(`recovery after a transport drop (${mode})`, async () => {
    const room = `recover-${mode}`;
    const a = connect(`${server.url}/chat`, { transports, auth: { name: "ann" } });
    const watcher = connect(`${server.url}/chat`, { transports, auth: { name: "wat" } });
    try {
      await Promise.all([connected(a), connected(watcher)]);
      if (mode === "upgrade") await upgraded(a);
      await ask(a, "join", { room });
      await ask(watcher, "join", { room });
      const got = collect(a, "message");
      await ask(watcher, "message", { room, text: "before" });
      await until(a, "message", () => got.length === 1);
      const id = a.id;

      // Drop the transport the way a network blip does; the watcher sees the
      // server notice (presence leave) before it sends what "a" will miss.
      const left = once(watcher, "presence");
      const reason = once(a, "disconnect");
      a.io.engine.close();
      assert.equal(await reason, "forced close");
      assert.equal((await left).event, "leave");
      await ask(watcher, "message", { room, text: "missed-1" });
      await ask(watcher, "message", { room, text: "missed-2" });

      const back = once(watcher, "presence");
      a.connect();
      await connected(a);
      assert.equal(a.recovered, true);
      assert.equal(a.id, id);
      await until(a, "message", () => got.length === 3);
      assert.deepEqual(got.map((m) => m.text), ["before", "missed-1", "missed-2"]);
      assert.equal((await back).event, "join", "the others see it come back");

      // still in the room: live messages keep arriving
      await ask(watcher, "message", { room, text: "after" });
      await until(a, "message", () => got.length === 4);
    } finally { a.close(); watcher.close(); }
  });
}

test("whoami says recovered after a drop", async () => {
  const s = connect(server.url, { transports: ["websocket"] });
  try {
    await connected(s);
    const id = s.id;
    const reason = once(s, "disconnect");
    s.io.engine.close();
    await reason;
    s.connect();
    await connected(s);
    const me = await ask(s, "whoami");
    assert.deepEqual([me.id, me.recovered], [id, true]);
  } finally { s.close(); }
});

test("no recovery when SOCKET_RECOVERY_WINDOW=0", async () => {
  const off = await startServer({ SOCKET_RECOVERY_WINDOW: "0" });
  const s = connect(off.url, { transports: ["websocket"] });
  try {
    await connected(s);
    const id = s.id;
    const reason = once(s, "disconnect");
    s.io.engine.close();
    await reason;
    s.connect();
    await connected(s);
    assert.ok(!s.recovered);
    assert.notEqual(s.id, id);
  } finally { s.close(); await off.stop(); }
});
