// examples/embed, an application module of its own that imports sockside
// (its /notes namespace is the README's quick start), driven by the
// official client on every transport setup; and the command with the demo
// off, which serves no namespace of its own.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { embedBinary, startServer } from "../lib/server.mjs";
import { TRANSPORTS, connect, connected, once, ask, upgraded } from "../lib/client.mjs";

describe("examples/embed", () => {
  let app;
  before(async () => { app = await startServer({ SOCKET_DEMO: "" }, { bin: embedBinary() }); });
  after(async () => { await app?.stop(); });

  for (const [mode, transports] of Object.entries(TRANSPORTS)) {
    test(`note:add is acked and pushed to everyone (${mode})`, async () => {
      const open = async (name) => {
        const s = connect(`${app.url}/notes`, { transports, auth: { name } });
        await connected(s);
        if (mode === "upgrade") await upgraded(s);
        return s;
      };
      const ada = await open("ada");
      const bob = await open("bob");
      try {
        const pushed = once(bob, "note:added");
        const ack = await ask(ada, "note:add", { text: `hello ${mode}` });
        assert.equal(ack.ok, true);
        assert.equal(typeof ack.id, "number");
        assert.deepEqual(await pushed, { id: ack.id, text: `hello ${mode}`, from: "ada" });
        assert.deepEqual(await ask(ada, "note:add", { text: " " }), { ok: false, error: "text must be 1-500 characters" });
        assert.deepEqual(await ask(ada, "note:add", "not an object"), { ok: false, error: "invalid payload: payload must be a JSON object" });
      } finally { ada.close(); bob.close(); }
    });
  }

  test("namespaces the application did not register are refused", async () => {
    for (const nsp of ["/", "/chat"]) {
      const s = connect(`${app.url}${nsp}`);
      try {
        await assert.rejects(connected(s), { message: "Invalid namespace" }, nsp);
      } finally { s.close(); }
    }
  });
});

describe("the command with SOCKET_DEMO=off", () => {
  let server;
  before(async () => { server = await startServer({ SOCKET_DEMO: "off" }); });
  after(async () => { await server?.stop(); });

  test("serves no namespace of its own", async () => {
    for (const nsp of ["/", "/chat", "/feed"]) {
      const s = connect(`${server.url}${nsp}`);
      try {
        await assert.rejects(connected(s), { message: "Invalid namespace" }, nsp);
      } finally { s.close(); }
    }
    assert.match(server.logs(), /no namespace of the server's own/);
  });

  test("has no /ws", async () => {
    const res = await fetch(`${server.url}/ws`);
    assert.equal(res.status, 404);
  });
});
