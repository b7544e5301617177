// createHooksHandler as a fetch handler, without the server: the fixed
// signature vector (hooks/testdata/signature-v1.json, which the Go tests
// check too), every refusal (signature, timestamp both ways, replay, size,
// method, hook, version, secret), routing, binary data and the exact shape
// of the answers hooks/protocol.go decodes.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createHooksHandler, decodeBinary, encodeBinary, HookError, parseCookies, signHook, verifyHook } from "sockside/server";
import { signatureVector } from "./lib/harness.mjs";

const vector = signatureVector();
const secret = vector.secret;
const T0 = Number(vector.timestamp); // the vector's time, in seconds

/** request builds a signed hook request (body: an object or a raw string). */
function request(hook, body, { ts = T0, key = secret, signature, headers = {}, method = "POST", path = `/api/sockside/${hook}` } = {}) {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const timestamp = String(ts);
  return new Request(`http://app.test${path}`, {
    method,
    headers: {
      "Content-Type": "application/json",
      "X-Sockside-Hooks-Version": "1",
      "X-Sockside-Timestamp": timestamp,
      "X-Sockside-Signature": signature ?? signHook(key, timestamp, raw),
      ...headers,
    },
    body: method === "GET" || method === "HEAD" ? undefined : raw,
  });
}

/** handler with the clock at the vector's time (plus offset seconds) and errors collected. */
function handler(namespaces, options = {}) {
  const errors = [];
  const h = createHooksHandler({ secret, namespaces, now: () => T0 * 1000 + (options.offset ?? 0) * 1000, onError: (err, info) => errors.push({ err, info }), ...options });
  h.errors = errors;
  return h;
}

async function answer(res, status = 200) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get("content-type"), /^application\/json/);
  return JSON.parse(text);
}

const notes = {
  "/notes": {
    events: {
      "note:add": ({ args: [note], ack }) => ack({ ok: true, text: note.text }),
    },
  },
};

describe("signature", () => {
  test("the fixed vector: same secret, timestamp and body give the same signature", () => {
    assert.equal(signHook(vector.secret, vector.timestamp, vector.body), vector.signature);
    assert.equal(signHook(vector.secret, vector.timestamp, Buffer.from(vector.body)), vector.signature);
    assert.equal(verifyHook(vector.secret, vector.timestamp, vector.signature, Buffer.from(vector.body), T0 * 1000), null);
  });

  test("the vector's request, as the server sends it, is answered", async () => {
    const h = handler(notes);
    const res = await h(request("event", vector.body, { signature: vector.signature }));
    assert.deepEqual(await answer(res), { ack: [{ ok: true, text: "hi" }] });
  });

  test("a bad signature, another secret, a changed body, no headers: 401", async () => {
    const h = handler(notes);
    const flipped = vector.signature.slice(0, -1) + (vector.signature.endsWith("a") ? "b" : "a");
    for (const req of [
      request("event", vector.body, { signature: flipped }),
      request("event", vector.body, { signature: vector.signature.slice(3) }), // without v1=
      request("event", vector.body, { key: "another-secret-0123456789abcdef0123" }),
      request("event", vector.body.replace("hi", "ho"), { signature: vector.signature }),
      request("event", vector.body, { signature: "" }),
      new Request("http://app.test/api/sockside/event", { method: "POST", body: vector.body }),
      request("event", vector.body, { ts: "17646336OO", signature: vector.signature }),
    ]) {
      assert.deepEqual(await answer(await h(req), 401), { ok: false, error: "bad signature" });
    }
  });

  test("several secrets (rotation): any of them signs", async () => {
    const other = "rotated-secret-0123456789abcdef0123";
    const h = createHooksHandler({ secret: [other, secret], namespaces: notes, now: () => T0 * 1000 });
    assert.equal((await h(request("event", vector.body, { signature: vector.signature }))).status, 200);
    assert.equal((await h(request("event", { ...JSON.parse(vector.body), sid: "xyz" }, { key: other }))).status, 200);
  });
});

describe("timestamp and replay", () => {
  test("more than 5 minutes in the past or the future: 401; 5 minutes exactly is accepted", async () => {
    for (const offset of [301, -301, 3600, -86400]) {
      const h = handler(notes, { offset });
      const res = await h(request("event", vector.body, { signature: vector.signature }));
      assert.deepEqual(await answer(res, 401), { ok: false, error: "timestamp too old or too far ahead" }, `offset ${offset}`);
    }
    for (const offset of [300, -300, 0]) {
      const h = handler(notes, { offset });
      assert.equal((await h(request("event", vector.body, { signature: vector.signature }))).status, 200, `offset ${offset}`);
    }
  });

  test("the same request again is refused as a replay; another one is not", async () => {
    const h = handler(notes);
    assert.equal((await h(request("event", vector.body, { signature: vector.signature }))).status, 200);
    assert.deepEqual(await answer(await h(request("event", vector.body, { signature: vector.signature })), 401), {
      ok: false,
      error: "replayed request",
    });
    const other = { ...JSON.parse(vector.body), sid: "def" };
    assert.equal((await h(request("event", other))).status, 200);
    // The same body a second later is a new request (a new signature).
    assert.equal((await h(request("event", vector.body, { ts: T0 + 1 }))).status, 200);
  });

  test("a forged request does not enter the replay set", async () => {
    const h = handler(notes);
    const forged = vector.signature.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
    assert.equal((await h(request("event", vector.body, { signature: forged }))).status, 401);
    assert.equal((await h(request("event", vector.body, { signature: vector.signature }))).status, 200);
  });

  test("the replay set is bounded: beyond replayCacheSize the oldest are forgotten", async () => {
    const h = handler(notes, { replayCacheSize: 2 });
    const bodies = ["a", "b", "c"].map((sid) => ({ ...JSON.parse(vector.body), sid }));
    for (const b of bodies) assert.equal((await h(request("event", b))).status, 200);
    assert.equal((await h(request("event", bodies[2]))).status, 401, "c is remembered");
    assert.equal((await h(request("event", bodies[0]))).status, 200, "a was forgotten");
  });

  test("replayCacheSize 0 turns the replay check off", async () => {
    const h = handler(notes, { replayCacheSize: 0 });
    for (let i = 0; i < 2; i++) assert.equal((await h(request("event", vector.body, { signature: vector.signature }))).status, 200);
  });
});

describe("refusals before the body is trusted", () => {
  test("a body over maxBodyBytes: 413, declared or streamed", async () => {
    const h = handler(notes, { maxBodyBytes: 64 });
    const big = { ...JSON.parse(vector.body), args: ["x".repeat(100)] };
    assert.deepEqual(await answer(await h(request("event", big)), 413), { ok: false, error: "body larger than 64 bytes" });
    // No Content-Length: a stream that keeps going is cut off at the limit.
    let pulled = 0;
    const stream = new ReadableStream({
      pull(c) {
        pulled++;
        c.enqueue(new TextEncoder().encode("x".repeat(40)));
        if (pulled > 1000) c.close();
      },
    });
    const req = new Request("http://app.test/api/sockside/event", {
      method: "POST",
      headers: { "X-Sockside-Timestamp": String(T0), "X-Sockside-Signature": "v1=00" },
      body: stream,
      duplex: "half",
    });
    assert.equal((await h(req)).status, 413);
    assert.ok(pulled < 10, `read ${pulled} chunks`);
  });

  test("GET and other methods: 405 with Allow: POST", async () => {
    const h = handler(notes);
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await h(request("event", vector.body, { method }));
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get("allow"), "POST");
    }
  });

  test("an unknown hook: 404; another protocol version: 400", async () => {
    const h = handler(notes);
    assert.equal((await h(request("event", vector.body, { path: "/api/sockside/events" }))).status, 404);
    const res = await h(request("event", vector.body, { headers: { "X-Sockside-Hooks-Version": "2" } }));
    assert.equal(res.status, 400);
    assert.match((await res.json()).error, /version 2/);
  });

  test("no secret, or a short one: 500 and onError, whatever the request", async () => {
    const saved = process.env.SOCKET_HOOKS_SECRET;
    delete process.env.SOCKET_HOOKS_SECRET;
    try {
      const errors = [];
      const h = createHooksHandler({ namespaces: notes, now: () => T0 * 1000, onError: (err) => errors.push(err.message) });
      assert.equal((await h(request("event", vector.body, { signature: vector.signature }))).status, 500);
      assert.match(errors[0], /SOCKET_HOOKS_SECRET is not set/);
      const short = createHooksHandler({ secret: "short", namespaces: notes, now: () => T0 * 1000, onError: (err) => errors.push(err.message) });
      assert.equal((await short(request("event", vector.body, { key: "short" }))).status, 500);
      assert.match(errors[1], /at least 32 bytes/);
      // The environment's, read at the request (not when the module loads).
      process.env.SOCKET_HOOKS_SECRET = secret;
      assert.equal((await h(request("event", vector.body, { signature: vector.signature }))).status, 200);
    } finally {
      if (saved === undefined) delete process.env.SOCKET_HOOKS_SECRET;
      else process.env.SOCKET_HOOKS_SECRET = saved;
    }
  });

  test("a signed body that is not JSON, or not a hook request: 400", async () => {
    const h = handler(notes);
    assert.equal((await h(request("event", "{nope"))).status, 400);
    assert.equal((await h(request("event", { namespace: "/notes" }))).status, 400);
    assert.equal((await h(request("event", { namespace: "/notes", sid: "a" }))).status, 400, "an event without event and args");
  });
});

describe("routing and answers", () => {
  const connectBody = (namespace = "/notes", sid = "s1") => ({
    namespace,
    sid,
    user: { id: sid, name: "guest-s1" },
    handshake: { auth: { name: "Ada" }, query: { EIO: "4", transport: "websocket" }, headers: { origin: "http://app.test" }, address: "127.0.0.1", time: T0 * 1000 },
  });
  const eventBody = (event, args, extra = {}) => ({
    namespace: "/notes",
    sid: "s1",
    user: { id: "u1", name: "Ada" },
    data: { plan: "pro" },
    rooms: ["team:7"],
    event,
    args,
    ack: true,
    ...extra,
  });

  test("connect: accept with every field, exactly as ConnectAnswer", async () => {
    let seen;
    const h = handler({
      "/notes": {
        connect(ctx) {
          seen = ctx;
          ctx.accept({ user: { id: "u_42", name: "Ada" }, data: { plan: "pro" }, join: "team:7", relay: ["typing"] });
        },
      },
    });
    const res = await h(request("connect", connectBody(), { headers: { Cookie: "session=abc%20d; theme=dark; session=second" } }));
    assert.deepEqual(await answer(res), { ok: true, user: { id: "u_42", name: "Ada" }, data: { plan: "pro" }, join: ["team:7"], relay: ["typing"] });
    assert.equal(seen.hook, "connect");
    assert.equal(seen.namespace, "/notes");
    assert.deepEqual(seen.socket, { sid: "s1", namespace: "/notes", user: { id: "s1", name: "guest-s1" } });
    assert.deepEqual(seen.handshake.auth, { name: "Ada" });
    assert.equal(seen.handshake.query.transport, "websocket");
    assert.deepEqual({ ...seen.cookies }, { session: "abc d", theme: "dark" });
    assert.equal(seen.request.headers.get("cookie"), "session=abc%20d; theme=dark; session=second");
  });

  test("connect: no connect handler accepts; returning without a decision accepts; a namespace not configured is refused", async () => {
    const h = handler({ "/open": {}, "/quiet": { connect() {} } });
    assert.deepEqual(await answer(await h(request("connect", connectBody("/open")))), { ok: true });
    assert.deepEqual(await answer(await h(request("connect", connectBody("/quiet")))), { ok: true });
    assert.deepEqual(await answer(await h(request("connect", connectBody("/elsewhere")))), { ok: false, error: "Invalid namespace" });
  });

  test("connect: refuse(error, data) and a thrown HookError refuse; another throw is a 500", async () => {
    const h = handler({
      "/a": { connect: ({ refuse }) => refuse("not signed in", { code: 401 }) },
      "/b": {
        connect() {
          throw new HookError("banned", { until: 5 });
        },
      },
      "/c": {
        connect() {
          throw new Error("database down");
        },
      },
    });
    assert.deepEqual(await answer(await h(request("connect", connectBody("/a")))), { ok: false, error: "not signed in", data: { code: 401 } });
    assert.deepEqual(await answer(await h(request("connect", connectBody("/b")))), { ok: false, error: "banned", data: { until: 5 } });
    assert.deepEqual(await answer(await h(request("connect", connectBody("/c"))), 500), { ok: false, error: "the hook handler failed" });
    assert.equal(h.errors.length, 1);
    assert.equal(h.errors[0].err.message, "database down");
    assert.deepEqual(h.errors[0].info, { hook: "connect", namespace: "/c", sid: "s1" });
  });

  test("event: every helper, in EventAnswer's shape; the context has the socket", async () => {
    let seen;
    const h = handler({
      "/notes": {
        events: {
          "note:add"(ctx) {
            seen = ctx;
            ctx.join(["board:1"]);
            ctx.join("board:2");
            ctx.leave("lobby");
            ctx.setData({ plan: "pro", notes: 3 });
            ctx.emit("note:added", [{ id: 3, text: "hello" }], { to: ["board:1"] });
            ctx.emit("count", [3], { except: ctx.socket.sid });
            ctx.emit("activity", ["note"], { namespace: "/admin" });
            ctx.emit("ping", []);
            ctx.ack({ ok: true, id: 3 });
            ctx.ack({ ok: true, id: 4 }); // the first counts
            ctx.disconnect();
          },
        },
      },
    });
    const res = await h(request("event", eventBody("note:add", [{ text: "hello" }])));
    assert.deepEqual(await answer(res), {
      join: ["board:1", "board:2"],
      leave: ["lobby"],
      data: { plan: "pro", notes: 3 },
      emit: [
        { event: "note:added", args: [{ id: 3, text: "hello" }], to: ["board:1"] },
        { event: "count", args: [3], except: ["s1"] },
        { event: "activity", args: ["note"], namespace: "/admin" },
        { event: "ping" },
      ],
      ack: [{ ok: true, id: 3 }],
      disconnect: true,
    });
    assert.equal(seen.hook, "event");
    assert.equal(seen.event, "note:add");
    assert.deepEqual(seen.args, [{ text: "hello" }]);
    assert.equal(seen.wantsAck, true);
    assert.deepEqual(seen.socket, { sid: "s1", namespace: "/notes", user: { id: "u1", name: "Ada" }, data: { plan: "pro" }, rooms: ["team:7"] });
  });

  test("event: a returned value is the ack; nothing returned and no ack() is an empty answer; setData(undefined) clears", async () => {
    const h = handler({
      "/notes": {
        events: {
          ret: () => ({ ok: true }),
          async later() {
            await Promise.resolve();
            return [1, 2];
          },
          quiet() {},
          clear: ({ setData }) => setData(undefined),
          many: ({ ack }) => ack(1, "two", null),
        },
      },
    });
    assert.deepEqual(await answer(await h(request("event", eventBody("ret", [])))), { ack: [{ ok: true }] });
    assert.deepEqual(await answer(await h(request("event", eventBody("later", [])))), { ack: [[1, 2]] });
    assert.deepEqual(await answer(await h(request("event", eventBody("quiet", [], { ack: false })))), {});
    assert.deepEqual(await answer(await h(request("event", eventBody("clear", [])))), { data: null });
    assert.deepEqual(await answer(await h(request("event", eventBody("many", [])))), { ack: [1, "two", null] });
  });

  test("event: unknown event and namespace are acked with the reason; anyEvent takes the rest", async () => {
    const h = handler({ "/notes": { events: {} }, "/any": { anyEvent: ({ event, args }) => ({ event, args }) } });
    assert.deepEqual(await answer(await h(request("event", eventBody("x", [])))), { ack: [{ ok: false, error: 'unknown event "x"' }] });
    assert.deepEqual(await answer(await h(request("event", eventBody("x", [], { namespace: "/gone" })))), {
      ack: [{ ok: false, error: 'unknown namespace "/gone"' }],
    });
    assert.deepEqual(await answer(await h(request("event", eventBody("y", [1], { namespace: "/any" })))), { ack: [{ event: "y", args: [1] }] });
  });

  test("event: HookError acks {ok: false, error} and drops the rest of the answer; another throw is a 500", async () => {
    const h = handler({
      "/notes": {
        events: {
          refuse({ join, emit }) {
            join("x");
            emit("count", [1]);
            throw new HookError("text is required");
          },
          async crash() {
            throw new TypeError("oops");
          },
        },
      },
    });
    assert.deepEqual(await answer(await h(request("event", eventBody("refuse", [])))), { ack: [{ ok: false, error: "text is required" }] });
    assert.equal((await h(request("event", eventBody("crash", [])))).status, 500);
    assert.deepEqual(h.errors[0].info, { hook: "event", namespace: "/notes", sid: "s1", event: "crash" });
  });

  test("disconnect: the handler gets the socket and the reason; the answer is {}", async () => {
    let seen;
    const h = handler({ "/notes": { disconnect: (ctx) => void (seen = ctx) } });
    const body = { namespace: "/notes", sid: "s1", user: { id: "u1" }, data: null, rooms: ["a", "b"], reason: "transport close" };
    assert.deepEqual(await answer(await h(request("disconnect", body))), {});
    assert.equal(seen.reason, "transport close");
    assert.deepEqual(seen.socket, { sid: "s1", namespace: "/notes", user: { id: "u1" }, data: null, rooms: ["a", "b"] });
    assert.deepEqual(await answer(await h(request("disconnect", { ...body, namespace: "/other" }))), {});
  });

  test("the hook comes from the URL's last segment (a trailing slash too) or the hook option", async () => {
    let hooks = [];
    const namespaces = { "/notes": { connect: () => void hooks.push("connect"), events: { e: () => void hooks.push("event") } } };
    const h = handler(namespaces);
    await answer(await h(request("connect", connectBody(), { path: "/hooks/connect/" })));
    await answer(await h(request("event", eventBody("e", []), { path: "/deep/er/event" })));
    assert.deepEqual(hooks, ["connect", "event"]);
    hooks = [];
    const fixed = handler(namespaces, { hook: "event" });
    await answer(await fixed(request("event", eventBody("e", []), { path: "/api/sockside-events" })));
    assert.deepEqual(hooks, ["event"]);
    // As a Next route handler: the second argument is Next's context.
    await answer(await h(request("event", eventBody("e", [], { sid: "s2" })), { params: Promise.resolve({ hook: "event" }) }));
    assert.deepEqual(hooks, ["event", "event"]);
  });

  test("binary: {_sockside_binary} arrives as a Buffer; bytes in ack, emit and data go out as {_sockside_binary}", async () => {
    let got;
    const h = handler({
      "/notes": {
        events: {
          put(ctx) {
            got = ctx.args;
            ctx.emit("file", [{ name: "a", bytes: new Uint8Array([1, 2, 3]) }]);
            ctx.setData({ avatar: Buffer.from("hi") });
            return { ok: true, echo: ctx.args[1], view: new DataView(new Uint8Array([255, 0]).buffer) };
          },
        },
      },
    });
    const body = eventBody("put", ["a.bin", { _sockside_binary: "aGVsbG8=" }, { _sockside_binary: "not base64!" }, { _sockside_binary: "aGk=", other: 1 }], {
      data: { avatar: { _sockside_binary: "aGk=" } },
    });
    assert.deepEqual(await answer(await h(request("event", body))), {
      data: { avatar: { _sockside_binary: "aGk=" } },
      emit: [{ event: "file", args: [{ name: "a", bytes: { _sockside_binary: "AQID" } }] }],
      ack: [{ ok: true, echo: { _sockside_binary: "aGVsbG8=" }, view: { _sockside_binary: "/wA=" } }],
    });
    assert.ok(Buffer.isBuffer(got[1]) && got[1] instanceof Uint8Array);
    assert.equal(got[1].toString(), "hello");
    assert.deepEqual(got[2], { _sockside_binary: "not base64!" }, "not base64: stays an object");
    assert.deepEqual(got[3], { _sockside_binary: "aGk=", other: 1 }, "other keys: stays an object");
  });
});

describe("helpers", () => {
  test("encodeBinary and decodeBinary round-trip at any depth and leave the input alone", () => {
    const input = { a: [new Uint8Array([0, 1]), { b: new ArrayBuffer(2) }], c: "x", d: null, e: 1 };
    const encoded = encodeBinary(input);
    assert.deepEqual(encoded, { a: [{ _sockside_binary: "AAE=" }, { b: { _sockside_binary: "AAA=" } }], c: "x", d: null, e: 1 });
    assert.ok(input.a[0] instanceof Uint8Array);
    const decoded = decodeBinary(JSON.parse(JSON.stringify(encoded)));
    assert.deepEqual([...decoded.a[0]], [0, 1]);
    assert.deepEqual([...decoded.a[1].b], [0, 0]);
    // A "__proto__" key from JSON stays an own key, not the prototype.
    const tricky = decodeBinary(JSON.parse('{"__proto__": {"polluted": true}}'));
    assert.equal(Object.getPrototypeOf(tricky), Object.prototype);
    assert.deepEqual(Object.keys(tricky), ["__proto__"]);
    assert.equal({}.polluted, undefined);
  });

  test("parseCookies: first value of a name, decoded, quotes removed", () => {
    assert.deepEqual({ ...parseCookies('a=1; b="two%20x"; a=3; bad; =x; c=%E0') }, { a: "1", b: "two x", c: "%E0" });
    assert.deepEqual({ ...parseCookies(null) }, {});
  });
});
