// emit() against the real server's POST /api/emit: delivered (202), and
// every failure as a SocksideEmitError that says what was wrong: the
// server's 401, 400 and 404 with its message, no secret here, nothing
// listening (naming SOCKET_INTERNAL_URL), no answer in time.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { io } from "socket.io-client";
import { createEmitter, emit, internalURL, SocksideEmitError } from "sockside/server";
import { listen, once, startServer } from "./lib/harness.mjs";

const secret = "sdk-emit-secret-0123456789";

/** withEnv runs fn with process.env changed as vars says (undefined: unset), then restores it. */
async function withEnv(vars, fn) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const refused = (status, code, serverError) => (err) => {
  assert.ok(err instanceof SocksideEmitError, String(err));
  assert.equal(err.name, "SocksideEmitError");
  assert.equal(err.status, status);
  assert.equal(err.code, code);
  if (serverError instanceof RegExp) assert.match(err.serverError, serverError);
  else assert.equal(err.serverError, serverError);
  return true;
};

describe("emit through the real server", () => {
  let srv;
  let send;
  const sockets = [];
  before(async () => {
    srv = await startServer({ SOCKET_EMIT_SECRET: secret });
    send = createEmitter({ url: srv.url, secret });
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv?.stop();
  });

  test("202: delivered to the room's sockets, with the data as the event's argument", async () => {
    const member = io(`${srv.url}/chat`, { transports: ["websocket"], forceNew: true, reconnection: false });
    const outsider = io(`${srv.url}/chat`, { transports: ["websocket"], forceNew: true, reconnection: false });
    sockets.push(member, outsider);
    await Promise.all([once(member, "connect"), once(outsider, "connect")]);
    assert.equal((await member.timeout(5000).emitWithAck("join", { room: "news" })).ok, true);
    let leaked = false;
    outsider.on("announcement", () => (leaked = true));
    const got = once(member, "announcement");
    assert.equal(await send("/chat", "announcement", { text: "deploy done" }, { room: "news" }), undefined);
    assert.deepEqual((await got)[0], { text: "deploy done" });
    // Then one to everyone: the outsider got nothing before it.
    const all = once(outsider, "all-hands");
    await send("/chat", "all-hands", 1);
    assert.equal((await all)[0], 1);
    assert.equal(leaked, false);
  });

  test("the environment's SOCKET_INTERNAL_URL and SOCKET_EMIT_SECRET, read at each emit", async () => {
    const s = io(srv.url, { transports: ["websocket"], forceNew: true, reconnection: false });
    sockets.push(s);
    await once(s, "connect");
    const got = once(s, "ping-all");
    await withEnv({ SOCKET_INTERNAL_URL: `${srv.url}/`, SOCKET_EMIT_SECRET: secret }, async () => {
      assert.equal(internalURL(), srv.url);
      await emit("/", "ping-all", "hi");
    });
    assert.equal((await got)[0], "hi");
  });

  test("401: a wrong secret, with the server's message and what to check", async () => {
    const wrong = createEmitter({ url: srv.url, secret: "not-the-secret" });
    await assert.rejects(wrong("/chat", "x", 1), refused(401, "refused", "bad or missing bearer secret"));
    await assert.rejects(wrong("/chat", "x", 1), /401 bad or missing bearer secret \(SOCKET_EMIT_SECRET here is not the server's/);
  });

  test("400: the server's reason (unknown namespace, reserved event, bad room)", async () => {
    await assert.rejects(send("/nope", "x", 1), refused(400, "refused", 'unknown namespace "/nope"'));
    await assert.rejects(send("/chat", "connect", 1), refused(400, "refused", 'event "connect" is reserved'));
    await assert.rejects(send("chat", "x", 1), refused(400, "refused", /namespace is required and starts with/));
    await assert.rejects(send("/chat", "x", 1, { room: "r".repeat(300) }), refused(400, "refused", /room must be at most/));
    await assert.rejects(send("/nope", "x", 1), /sockside emit "x" to \/nope: 400 unknown namespace "\/nope"$/);
  });

  test("binary data is refused before any request (the API carries JSON)", async () => {
    await assert.rejects(send("/chat", "x", { b: new Uint8Array(1) }), (err) => err instanceof TypeError && /JSON, not binary/.test(err.message));
  });

  test("404: a server without the emit API says so", async () => {
    const off = await startServer({});
    try {
      const to = createEmitter({ url: off.url, secret });
      await assert.rejects(to("/chat", "x", 1), refused(404, "refused", "404 page not found"));
      await assert.rejects(to("/chat", "x", 1), /the server's emit API is off \(set SOCKET_EMIT_SECRET on the server too\)/);
    } finally {
      await off.stop();
    }
  });
});

describe("emit without a server", () => {
  test("no secret: not-configured, before any request", async () => {
    await withEnv({ SOCKET_EMIT_SECRET: undefined }, async () => {
      let fetched = false;
      const e = createEmitter({ url: "http://127.0.0.1:9", fetch: () => ((fetched = true), Promise.reject(new Error("no"))) });
      await assert.rejects(e("/chat", "x", 1), (err) => {
        assert.ok(err instanceof SocksideEmitError);
        assert.equal(err.code, "not-configured");
        assert.equal(err.status, 0);
        assert.match(err.message, /SOCKET_EMIT_SECRET is not set/);
        return true;
      });
      assert.equal(fetched, false);
    });
  });

  test("nothing listening: unreachable, naming SOCKET_INTERNAL_URL", async () => {
    // A port that was free a moment ago: bind, read, close.
    const probe = await listen(() => {});
    const url = probe.url;
    await probe.close();
    await withEnv({ SOCKET_INTERNAL_URL: url, SOCKET_EMIT_SECRET: secret }, async () => {
      await assert.rejects(emit("/chat", "x", 1), (err) => {
        assert.ok(err instanceof SocksideEmitError);
        assert.equal(err.code, "unreachable");
        assert.equal(err.status, 0);
        assert.ok(err.message.includes(`sockside unreachable at ${url} (SOCKET_INTERNAL_URL)`), err.message);
        assert.match(err.message, /ECONNREFUSED/);
        assert.ok(err.cause);
        return true;
      });
    });
  });

  test("no answer within timeoutMs: timeout", async () => {
    const silent = await listen(() => {}); // takes the request, never answers
    try {
      const e = createEmitter({ url: silent.url, secret, timeoutMs: 200 });
      await assert.rejects(e("/chat", "x", 1), (err) => err instanceof SocksideEmitError && err.code === "timeout" && /within 200 ms/.test(err.message));
    } finally {
      await silent.close();
    }
  });

  test("the caller's signal cancels it: its own AbortError, not a SocksideEmitError", async () => {
    const silent = await listen(() => {});
    try {
      const e = createEmitter({ url: silent.url, secret });
      const ctl = new AbortController();
      const p = e("/chat", "x", 1, { signal: ctl.signal });
      ctl.abort();
      await assert.rejects(p, (err) => !(err instanceof SocksideEmitError) && err.name === "AbortError");
    } finally {
      await silent.close();
    }
  });
});
