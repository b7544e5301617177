// Every namespace behaviour through the official client, on all three
// transport setups: polling only, websocket only, polling upgraded.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TRANSPORTS, connect, connected, once, ask, upgraded, collect, until } from "../lib/client.mjs";

let server;
before(async () => { server = await startServer({ FEED_INTERVAL: "150ms" }); });
after(async () => { await server?.stop(); });

for (const [mode, transports] of Object.entries(TRANSPORTS)) {
  describe(`transport ${mode}`, () => {
    const open = async (nsp, opts = {}) => {
      const s = connect(`${server.url}${nsp}`, { transports, ...opts });
      await connected(s);
      if (mode === "upgrade") await upgraded(s);
      return s;
    };

    test("echo acks JSON and binary arguments unchanged", async () => {
      const s = await open("/");
      try {
        const payload = { n: 1.5, s: "héllo", a: [true, null, { deep: ["x"] }] };
        assert.deepEqual(await ask(s, "echo", payload), payload);
        const bin = Buffer.from([0, 1, 2, 250, 255]);
        const all = await new Promise((res, rej) => {
          s.timeout(5000).emit("echo", "text", bin, { nested: bin }, (err, ...args) => (err ? rej(err) : res(args)));
        });
        assert.equal(all[0], "text");
        assert.deepEqual(Buffer.from(all[1]), bin);
        assert.deepEqual(Buffer.from(all[2].nested), bin);
      } finally { s.close(); }
    });

    test("whoami reports id, transport, recovery and user", async () => {
      const s = await open("/", { auth: { name: "ada" } });
      try {
        const me = await ask(s, "whoami");
        assert.equal(me.id, s.id);
        assert.equal(me.transport, mode === "polling" ? "polling" : "websocket");
        assert.equal(me.recovered, false);
        assert.equal(me.user, "ada");
      } finally { s.close(); }
    });

    test("unknown events get an error ack", async () => {
      const s = await open("/");
      try {
        assert.deepEqual(await ask(s, "no-such-event", 1), { ok: false, error: 'unknown event "no-such-event"' });
      } finally { s.close(); }
    });

    test("chat: join, presence, ordered messages, input mirror, leave", async () => {
      const room = `room-${mode}`;
      const a = await open("/chat", { auth: { name: "alice" } });
      const b = await open("/chat", { auth: { name: "bob" } });
      try {
        const aPresence = collect(a, "presence");
        assert.deepEqual(await ask(a, "join", { room }), { ok: true, room, members: 1 });
        await until(a, "presence", () => aPresence.length === 1);
        assert.deepEqual(aPresence[0], { room, id: a.id, user: "alice", event: "join", members: 1 });

        assert.deepEqual(await ask(b, "join", { room }), { ok: true, room, members: 2 });
        await until(a, "presence", () => aPresence.length === 2);
        assert.deepEqual(aPresence[1], { room, id: b.id, user: "bob", event: "join", members: 2 });
        // joining twice is idempotent and announces nothing
        assert.deepEqual(await ask(b, "join", { room }), { ok: true, room, members: 2 });

        const aMsgs = collect(a, "message");
        const bMsgs = collect(b, "message");
        const acks = [];
        for (let i = 0; i < 20; i++) acks.push(ask(i % 2 ? b : a, "message", { room, text: `m${i}` }));
        const results = await Promise.all(acks);
        for (const r of results) { assert.equal(r.ok, true); assert.equal(typeof r.id, "string"); }
        await until(a, "message", () => aMsgs.length === 20);
        await until(b, "message", () => bMsgs.length === 20);
        // both see the same server order, sender included, stamped by the server
        assert.deepEqual(aMsgs.map((m) => m.id), bMsgs.map((m) => m.id));
        for (const m of aMsgs) {
          assert.equal(m.room, room);
          assert.equal(m.from, Number(m.text.slice(1)) % 2 ? "bob" : "alice");
          assert.ok(Math.abs(Date.now() - m.ts) < 60000);
        }
        // per-sender order is kept
        const aTexts = aMsgs.filter((m) => m.from === "alice").map((m) => m.text);
        assert.deepEqual(aTexts, ["m0", "m2", "m4", "m6", "m8", "m10", "m12", "m14", "m16", "m18"]);

        const aInputs = collect(a, "update-input");
        const bInput = once(b, "update-input");
        assert.deepEqual(await ask(a, "input-change", { room, value: "typing..." }), { ok: true });
        assert.deepEqual(await bInput, { room, value: "typing...", from: "alice" });
        assert.deepEqual(aInputs, [], "the sender does not get its own input back");

        const left = once(a, "presence");
        assert.deepEqual(await ask(b, "leave", { room }), { ok: true, room, members: 1 });
        assert.deepEqual(await left, { room, id: b.id, user: "bob", event: "leave", members: 1 });

        const gone = once(a, "presence");
        const b2 = await open("/chat", { auth: { name: "carol" } });
        await ask(b2, "join", { room });
        assert.equal((await gone).user, "carol");
        const dropped = once(a, "presence");
        const b2id = b2.id;
        b2.close();
        assert.deepEqual(await dropped, { room, id: b2id, user: "carol", event: "leave", members: 1 });
      } finally { a.close(); b.close(); }
    });

    test("chat: bad requests get {ok:false, error}", async () => {
      const s = await open("/chat");
      try {
        const long = "x".repeat(65);
        const cases = [
          ["join", { room: "" }, "room must be 1-64 characters"],
          ["join", { room: long }, "room must be 1-64 characters"],
          ["join", "not an object", "invalid payload: payload must be a JSON object"],
          ["join", { room: 42 }, 'invalid payload: field "room" must be string'],
          ["message", { room: "never-joined", text: "hi" }, 'join room "never-joined" first'],
          ["leave", { room: "never-joined" }, 'join room "never-joined" first'],
          ["input-change", { room: "never-joined", value: "x" }, 'join room "never-joined" first'],
        ];
        for (const [ev, arg, error] of cases) assert.deepEqual(await ask(s, ev, arg), { ok: false, error }, `${ev} ${JSON.stringify(arg)}`);
        assert.deepEqual(await ask(s, "message"), { ok: false, error: "missing payload" });
        await ask(s, "join", { room: "r" });
        assert.deepEqual(await ask(s, "message", { room: "r", text: "" }), { ok: false, error: "text must be 1-4096 characters" });
        assert.deepEqual(await ask(s, "message", { room: "r", text: "y".repeat(4097) }), { ok: false, error: "text must be 1-4096 characters" });
        assert.equal((await ask(s, "message", { room: "r", text: "y".repeat(4096) })).ok, true);
        // still connected and serving after all that
        assert.equal((await ask(s, "join", { room: "r2" })).members, 1);
      } finally { s.close(); }
    });

    test("feed pushes orders to every socket, recent ones first on connect", async () => {
      const a = await open("/feed");
      const b = await open("/feed");
      try {
        const [oa, ob] = await Promise.all([once(a, "order", 5000), once(b, "order", 5000)]);
        for (const o of [oa, ob]) {
          assert.match(o.id, /\S/);
          assert.ok(Array.isArray(o.items) && o.items.length > 0);
          assert.equal(typeof o.total, "number");
          assert.equal(typeof o.ts, "number");
        }
        const c = connect(`${server.url}/feed`, { transports });
        const recent = await once(c, "recent");
        c.close();
        assert.ok(recent.length >= 1);
        for (let i = 1; i < recent.length; i++) assert.ok(recent[i - 1].ts >= recent[i].ts, "newest first");
      } finally { a.close(); b.close(); }
    });
  });
}
