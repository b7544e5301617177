// The hooks end to end: the real Go server (SOCKET_HOOKS_URL pointing at a
// plain node:http app that serves createHooksHandler through
// toNodeListener) and the official socket.io-client. What the server does
// with the answers is what hooks/protocol.go expects of them.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { io, Manager } from "socket.io-client";
import { configureSockets, getSocket, retainSocket, send, statusOf, withEvents } from "sockside/client";
import { createHooksHandler, HookError, toNodeListener } from "sockside/server";
import { Inbox, listen, once, startServer, until } from "./lib/harness.mjs";

const secret = "e2e-hooks-secret-0123456789abcdef0123";

describe("hooks through the real server", () => {
  let app;
  let srv;
  const sockets = [];
  const disconnects = new Inbox();
  const connects = new Inbox();
  const seenEvents = [];

  const handler = createHooksHandler({
    secret,
    onError: () => {}, // the crash test's error is expected
    namespaces: {
      "/notes": {
        connect({ cookies, handshake, request, accept, refuse, socket }) {
          connects.push({ cookies: { ...cookies }, auth: handshake.auth, headers: handshake.headers, cookieHeader: request.headers.get("cookie"), user: socket.user });
          const name = cookies.session;
          if (!name) return refuse("not signed in", { code: 401 });
          accept({ user: { id: `u_${name}`, name }, data: { notes: 0 }, join: ["team"], relay: ["typing"] });
        },
        events: {
          "note:add"({ args: [note], socket, emit, setData }) {
            if (!note?.text) throw new HookError("text is required");
            const id = socket.data.notes + 1;
            setData({ notes: id });
            emit("note:added", [{ id, text: note.text, by: socket.user.name }], { to: "team", except: socket.sid });
            emit("activity", [`${socket.user.name} added a note`], { namespace: "/admin" });
            return { ok: true, id };
          },
          whoami: ({ socket }) => socket,
          "room:join"({ args: [room], join }) {
            join(room);
            return { ok: true };
          },
          "room:leave"({ args: [room], leave }) {
            leave(room);
            return { ok: true };
          },
          "room:say"({ args: [room, text], emit }) {
            emit("said", [text], { to: room });
          },
          "file:put": ({ args: [name, bytes] }) => ({ ok: true, name, size: bytes.length, bytes, isBuffer: Buffer.isBuffer(bytes) }),
          crash() {
            throw new Error("boom");
          },
          bye({ disconnect }) {
            disconnect();
            return { ok: true };
          },
        },
        anyEvent({ event }) {
          seenEvents.push(event);
          return { ok: false, error: `unknown event "${event}"` };
        },
        disconnect: ({ socket, reason }) => disconnects.push({ sid: socket.sid, reason, rooms: socket.rooms, data: socket.data, user: socket.user }),
      },
      "/admin": { events: { ping: ({ args }) => ["pong", ...args] } },
    },
  });

  /** connect opens a socket to namespace and resolves once connected (or rejects with connect_error). */
  async function connect(namespace, { cookie, auth } = {}) {
    const socket = io(`${srv.url}${namespace}`, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      auth,
      extraHeaders: cookie ? { cookie } : {},
    });
    sockets.push(socket);
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    return socket;
  }

  const ack = (socket, ...args) => socket.timeout(10000).emitWithAck(...args);
  // (Server events carry a last argument of their own, the recovery offset: tests read the first.)

  before(async () => {
    app = await listen(toNodeListener(handler));
    srv = await startServer({ SOCKET_HOOKS_URL: `${app.url}/api/sockside`, SOCKET_HOOKS_SECRET: secret, SOCKET_HOOKS_TIMEOUT: "5s" });
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv?.stop();
    await app?.close();
  });

  test("connect: refused without a session, with the app's message and data", async () => {
    const err = await connect("/notes", { auth: { name: "x" } }).then(
      () => assert.fail("connected"),
      (e) => e,
    );
    assert.equal(err.message, "not signed in");
    assert.deepEqual(err.data, { code: 401 });
    const seen = await connects.next("the connect hook");
    assert.deepEqual(seen.cookies, {});
    assert.deepEqual(seen.auth, { name: "x" });
  });

  test("connect: a namespace the app does not serve is refused 'Invalid namespace'", async () => {
    await assert.rejects(connect("/nope"), (e) => e.message === "Invalid namespace");
  });

  test("connect: the browser's cookie reaches the app; the answer's user, data and rooms hold", async () => {
    const a = await connect("/notes", { cookie: "session=ada; theme=dark" });
    const seen = await connects.next("the connect hook");
    assert.equal(seen.cookieHeader, "session=ada; theme=dark");
    assert.equal(seen.cookies.session, "ada");
    assert.equal(seen.headers.cookie, undefined, "the cookie is the request's header, not a handshake header");
    assert.equal(seen.user.id, a.id, "before the answer, the server's anonymous user");
    const me = await ack(a, "whoami");
    assert.deepEqual(me, { sid: a.id, namespace: "/notes", user: { id: "u_ada", name: "ada" }, data: { notes: 0 }, rooms: ["team"] });
  });

  test("event: ack, setData, emit to a room except the sender, emit to another namespace", async () => {
    const a = await connect("/notes", { cookie: "session=ann" });
    const b = await connect("/notes", { cookie: "session=bob" });
    const admin = await connect("/admin");
    const gotB = once(b, "note:added");
    const gotAdmin = once(admin, "activity");
    let aGot = 0;
    a.on("note:added", () => aGot++);
    assert.deepEqual(await ack(a, "note:add", { text: "hello" }), { ok: true, id: 1 });
    assert.deepEqual((await gotB)[0], { id: 1, text: "hello", by: "ann" });
    assert.deepEqual((await gotAdmin)[0], "ann added a note");
    assert.deepEqual(await ack(a, "note:add", { text: "again" }), { ok: true, id: 2 }, "the data was kept");
    assert.deepEqual((await ack(a, "whoami")).data, { notes: 2 });
    assert.equal(aGot, 0, "the sender was excepted");
  });

  test("event: join and leave change the rooms an emit reaches", async () => {
    const a = await connect("/notes", { cookie: "session=cy" });
    const b = await connect("/notes", { cookie: "session=di" });
    assert.deepEqual(await ack(b, "room:join", "r1"), { ok: true });
    assert.deepEqual((await ack(b, "whoami")).rooms.sort(), ["r1", "team"]);
    const said = once(b, "said");
    await ack(a, "room:say", "r1", "one");
    assert.deepEqual((await said)[0], "one");
    assert.deepEqual(await ack(b, "room:leave", "r1"), { ok: true });
    assert.deepEqual((await ack(b, "whoami")).rooms, ["team"]);
  });

  test("event: an unknown event, a HookError and a crashing handler are acked {ok: false, error}", async () => {
    const a = await connect("/notes", { cookie: "session=eve" });
    assert.deepEqual(await ack(a, "nope", 1), { ok: false, error: 'unknown event "nope"' });
    assert.deepEqual(await ack(a, "note:add", {}), { ok: false, error: "text is required" });
    assert.deepEqual(await ack(a, "crash"), { ok: false, error: "hooks unavailable" });
    assert.deepEqual((await ack(a, "whoami")).data, { notes: 0 }, "a refused event changed nothing");
  });

  test("binary: bytes from the client arrive as a Buffer and go back as bytes", async () => {
    const a = await connect("/notes", { cookie: "session=fay" });
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const res = await ack(a, "file:put", "a.bin", bytes);
    assert.equal(res.ok, true);
    assert.equal(res.isBuffer, true);
    assert.equal(res.size, 5);
    assert.deepEqual([...new Uint8Array(res.bytes)], [...bytes]);
  });

  test("relay: a relay event reaches the sender's rooms without the app", async () => {
    const a = await connect("/notes", { cookie: "session=gil" });
    const b = await connect("/notes", { cookie: "session=hal" });
    const typing = once(b, "typing");
    assert.deepEqual(await ack(a, "typing", { on: true }), { ok: true });
    assert.deepEqual((await typing)[0], { on: true });
    assert.ok(!seenEvents.includes("typing"), "the app never saw it");
  });

  test("disconnect: an answer's disconnect ends the socket after its ack; the disconnect hook follows", async () => {
    const a = await connect("/notes", { cookie: "session=ivy" });
    const sid = a.id;
    const reason = once(a, "disconnect-reason");
    const gone = once(a, "disconnect");
    assert.deepEqual(await ack(a, "bye"), { ok: true });
    assert.deepEqual((await reason)[0], { code: 4000, reason: "disconnected by the application" });
    assert.equal((await gone)[0], "io server disconnect");
    let d;
    while ((d = await disconnects.next("the disconnect hook")).sid !== sid);
    assert.equal(typeof d.reason, "string"); // the server's: the connection closes with the socket
    assert.deepEqual(d.rooms, ["team"]);
    assert.deepEqual(d.user, { id: "u_ivy", name: "ivy" });
  });

  test("disconnect: a client leaving reaches the disconnect hook with its rooms and data", async () => {
    // Two sockets on one connection: the one leaving says so (a namespace
    // disconnect) while the connection stays, so the reason is not a race
    // with the transport's close.
    const manager = new Manager(srv.url, { transports: ["websocket"], reconnection: false, extraHeaders: { cookie: "session=jo" } });
    const keep = manager.socket("/admin");
    const a = manager.socket("/notes");
    sockets.push(keep, a);
    await Promise.all([once(keep.connect(), "connect"), once(a.connect(), "connect")]);
    const sid = a.id;
    await ack(a, "room:join", "r2");
    await ack(a, "note:add", { text: "x" });
    a.disconnect();
    let d;
    while ((d = await disconnects.next("the disconnect hook")).sid !== sid);
    assert.equal(d.reason, "client namespace disconnect");
    assert.deepEqual(d.rooms.sort(), ["r2", "team"]);
    assert.deepEqual(d.data, { notes: 1 });
  });

  test("the client layer on hook namespaces: send gets the app's ack; the app's refusal is the status", async () => {
    configureSockets({ url: srv.url, releaseDelayMs: 10 });
    assert.equal(withEvents().getSocket, getSocket, "withEvents types the same functions");
    const releaseAdmin = retainSocket("/admin");
    const releaseNotes = retainSocket("/notes"); // no cookie from this client: refused
    try {
      assert.deepEqual(await send(getSocket("/admin"), "ping", 1), ["pong", 1]);
      await until(() => statusOf(getSocket("/notes")).state === "offline", "/notes refused");
      assert.equal(statusOf(getSocket("/notes")).error, "not signed in");
    } finally {
      releaseAdmin();
      releaseNotes();
    }
    await until(() => !getSocket("/admin").active, "released");
  });
});
