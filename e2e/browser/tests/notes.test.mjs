// /notes, the demo's hook namespace: no Go code serves it; the server signs
// each connect, event and disconnect over to web/'s route handler
// (createHooksHandler) under next start, which reads the next-auth session
// from the forwarded cookie, keeps the board and answers. A server action
// pushes to it through the emit API. Two server nodes on Redis: the one the
// build rewrites to, and a second one reached directly, with small bounds
// (answer size, timeout, requests in flight) for the failure cases.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { emitSecret, goPort, screenshot, stack, webDir } from "../lib/stack.mjs";
import { T, waitBadge } from "../lib/page.mjs";
import { metric, signToken, startServer } from "../../lib/server.mjs";

// The official client, from the demo's own dependencies.
const { io } = createRequire(join(webDir, "package.json"))("socket.io-client");

const authSecret = "e2e-auth-secret-0123456789abcdef";
const hooksSecret = "e2e-hooks-secret-0123456789abcdef0123";
// The second node's bounds: an answer above 4 KiB is refused, the app gets
// 3 s to answer, two requests may wait at once.
const node2Bounds = { SOCKET_MAX_PAYLOAD: "4096", SOCKET_HOOKS_TIMEOUT: "3s", SOCKET_HOOKS_MAX_IN_FLIGHT: "2" };

async function signIn(page, base, name) {
  await page.goto(`${base}/signin?next=/notes`);
  await page.locator("input[name=name]").fill(name);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/notes`, { timeout: T });
}

async function addNote(page, text, button = "Add", field = "input[name=text]:not([aria-label])") {
  await page.locator(field).fill(text);
  await page.getByRole("button", { name: button }).click();
}

/** connectPolling opens an Engine.IO session at base and connects it to nsp with auth; it returns the CONNECT answer. */
async function connectPolling(base, nsp, auth) {
  const url = `${base}/socket.io/?EIO=4&transport=polling`;
  const { sid } = JSON.parse((await (await fetch(url)).text()).slice(1));
  const post = await fetch(`${url}&sid=${sid}`, { method: "POST", body: `40${nsp},${JSON.stringify(auth)}` });
  assert.equal(post.status, 200);
  const payload = await (await fetch(`${url}&sid=${sid}`, { signal: AbortSignal.timeout(T) })).text();
  const answer = payload.split("\x1e")[0]; // the CONNECT answer comes first; events may follow it
  assert.ok(answer.startsWith(`4`) && answer.includes(`${nsp},`), answer);
  return { type: answer[1], body: JSON.parse(answer.slice(answer.indexOf(",") + 1)) };
}

/** token is a session for name: the next-auth cookie's value, which the server's JWT check accepts too. */
const token = (sub, name) => signToken(authSecret, { sub, name, exp: Math.floor(Date.now() / 1000) + 300 });

/** member connects the official client to /notes at url as name (the session cookie, as a browser sends it). */
async function member(url, name) {
  const socket = io(`${url}/notes`, {
    transports: ["websocket"],
    extraHeaders: { Cookie: `sockside_token=${token(`u-${name}`, name)}` },
    reconnection: false,
    forceNew: true,
  });
  await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${name}: no connect in ${T} ms`)), T);
    socket.once("connect", () => (clearTimeout(timer), res()));
    socket.once("connect_error", (err) => (clearTimeout(timer), rej(err)));
  });
  return socket;
}

/** next resolves with the next event's first argument on socket. */
function next(socket, event) {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no ${event} in ${T} ms`)), T);
    socket.once(event, (arg) => (clearTimeout(timer), res(arg)));
  });
}

/** until polls fn (a promise) until it returns a truthy value, for at most T ms. */
async function until(what, fn) {
  const deadline = Date.now() + T;
  for (;;) {
    const got = await fn();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${T} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** hookRequest POSTs body to the app's hook as the server would, signed at ts (unix seconds). */
function hookRequest(base, hook, body, ts = Math.floor(Date.now() / 1000)) {
  const raw = JSON.stringify(body);
  const signature = `v1=${createHmac("sha256", hooksSecret).update(`${ts}.${raw}`).digest("hex")}`;
  return fetch(`${base}/api/sockside/${hook}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Sockside-Timestamp": String(ts), "X-Sockside-Signature": signature },
    body: raw,
  });
}

const note = (page, from, text) => page.locator(`[data-testid=note][data-from="${from}"]`, { hasText: text });

describe("notes (hooks to route handlers, next-auth session)", () => {
  let s;
  let node2;
  const opened = []; // the test clients, closed at the end
  const open = async (url, name) => {
    const socket = await member(url, name);
    opened.push(socket);
    return socket;
  };
  before(async () => {
    const shared = { SOCKET_AUTH_SECRET: authSecret };
    s = await stack({ goEnv: shared, nextEnv: { ...shared, SOCKET_HOOKS_SECRET: hooksSecret } });
    // The hooks point at the Next server, whose port is known only now.
    const cluster = {
      ...shared,
      SOCKET_HOOKS_URL: `${s.next.url}/api/sockside`,
      SOCKET_HOOKS_SECRET: hooksSecret,
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_PREFIX: `notes-e2e-${process.pid}-${Date.now()}`, // this run's alone
    };
    await s.stopGo();
    await s.startGoAgain(cluster);
    node2 = await startServer({ ...cluster, ...node2Bounds, SOCKET_EMIT_SECRET: emitSecret });
  });
  after(async () => {
    for (const socket of opened) socket.disconnect();
    await node2?.stop();
    await s?.stop();
  });

  test("without a session: the server's JWT check refuses first; past it, the connect hook refuses with the app's message and data", async () => {
    const ctx = await s.browser.newContext();
    try {
      const page = await ctx.newPage();
      await page.goto(`${s.next.url}/notes`);
      await waitBadge(page, "offline", { error: "unauthorized" }); // the Go server's SOCKET_AUTH_SECRET
      await page.getByTestId("signin-hint").waitFor({ timeout: T });
    } finally {
      await ctx.close();
    }
    // A token the server accepts, but no next-auth session cookie: the app
    // decides, over Engine.IO long-polling through Next's rewrite.
    const token = signToken(authSecret, { sub: "u-1", name: "Eve", exp: Math.floor(Date.now() / 1000) + 60 });
    const refused = await connectPolling(s.next.url, "/notes", { token });
    assert.deepEqual(refused, { type: "4", body: { message: "sign in first", data: { signIn: "/signin?next=/notes" } } });
  });

  test("two signed-in users: note:add through the hooks reaches both, the list survives a reload, a server action pushes", async () => {
    const [ctxA, ctxB] = [await s.browser.newContext(), await s.browser.newContext()];
    try {
      const [a, b] = [await ctxA.newPage(), await ctxB.newPage()];
      await signIn(a, s.next.url, "Ada");
      await signIn(b, s.next.url, "Bob");
      await waitBadge(a, "connected");
      await waitBadge(b, "connected");

      await addNote(a, "ship it");
      await note(b, "Ada", "ship it").waitFor({ timeout: T });
      await note(a, "Ada", "ship it").waitFor({ timeout: T });
      // The relay: Bob sees Ada typing without the app being asked.
      await a.locator("input[name=text]:not([aria-label])").pressSequentially("x");
      await b.getByTestId("typing").waitFor({ timeout: T });

      // An invalid note is refused by the app's handler, as the ack's error.
      await a.locator("input[name=text]:not([aria-label])").fill("   ");
      await a.getByRole("button", { name: "Add" }).click();
      await a.getByTestId("notes-error").filter({ hasText: "text must be 1-500 characters" }).waitFor({ timeout: T });

      // The server action: emitted through POST /api/emit to the hook namespace.
      await addNote(b, "standup at 10", "Pin from server", "input[aria-label='server note']");
      await note(a, "server (for Bob)", "standup at 10").waitFor({ timeout: T });

      // The board is the app's: a reload gets it back with note:list.
      await b.reload();
      await note(b, "Ada", "ship it").waitFor({ timeout: T });
      await note(b, "server (for Bob)", "standup at 10").waitFor({ timeout: T });
      await screenshot(b, "notes");
    } finally {
      await ctxA.close();
      await ctxB.close();
    }
  });

  test("two nodes on Redis: an event answer's emit, a server action's push and a relay reach sockets on the other node; the disconnect hook gets the reason", async () => {
    const ctx = await s.browser.newContext();
    try {
      const ada = await ctx.newPage();
      await signIn(ada, s.next.url, "Ada"); // on the node Next rewrites to
      await waitBadge(ada, "connected");
      const cy = await open(node2.url, "Cy"); // on the second node

      // Ada's note:add is answered on node 1; its emit to the board crosses Redis.
      const toCy = next(cy, "note:added");
      await addNote(ada, "from node 1");
      assert.deepEqual((({ text, from }) => ({ text, from }))(await toCy), { text: "from node 1", from: "Ada" });
      // Cy's, answered on node 2, reaches Ada's page.
      const ack = await cy.timeout(T).emitWithAck("note:add", { text: "from node 2" });
      assert.equal(ack.ok, true, JSON.stringify(ack));
      await note(ada, "Cy", "from node 2").waitFor({ timeout: T });
      // The server action pushes through node 1's emit API: Cy hears it.
      const pinned = next(cy, "note:added");
      await addNote(ada, "pinned", "Pin from server", "input[aria-label='server note']");
      assert.equal((await pinned).from, "server (for Ada)");
      // A relay from node 2, without the app, to Ada's page on node 1.
      cy.emit("typing", { typing: true });
      await ada.getByTestId("typing").waitFor({ timeout: T });

      // The disconnect hook, with Socket.IO's reason: the app tells the board.
      cy.disconnect();
      await ada.getByTestId("left").filter({ hasText: "Cy left (client namespace disconnect)" }).waitFor({ timeout: T });
      const dan = await open(node2.url, "Dan");
      dan.io.engine.close(); // the connection drops without a goodbye
      await ada.getByTestId("left").filter({ hasText: "Dan left (transport close)" }).waitFor({ timeout: T });
      await screenshot(ada, "notes-two-nodes");
    } finally {
      await ctx.close();
    }
  });

  test("an answer over SOCKET_MAX_PAYLOAD is refused: the ack is hooks unavailable on that node, the board is intact", async () => {
    const [big, small] = [await open(`http://127.0.0.1:${goPort()}`, "Eli"), await open(node2.url, "Fay")];
    for (let i = 0; i < 8; i++) {
      const ack = await big.timeout(T).emitWithAck("note:add", { text: `${i}`.padEnd(500, "x") });
      assert.equal(ack.ok, true, JSON.stringify(ack));
    }
    // Eight notes of 500 characters: note:list's answer is over node 2's 4 KiB.
    const before = await metric(node2.url, "sockside_hook_requests_total", { hook: "event", outcome: "too_large" });
    assert.deepEqual(await small.timeout(T).emitWithAck("note:list"), { ok: false, error: "hooks unavailable" });
    assert.equal(await metric(node2.url, "sockside_hook_requests_total", { hook: "event", outcome: "too_large" }), before + 1);
    // Node 1's bound is the default: the same list comes through whole.
    const list = await big.timeout(T).emitWithAck("note:list");
    assert.ok(Array.isArray(list) && list.filter((n) => n.text.length === 500).length === 8, JSON.stringify(list).slice(0, 200));
  });

  test("a slow app: the timeout is honoured, and with SOCKET_HOOKS_MAX_IN_FLIGHT waiting the next event is refused at once", async () => {
    const [x, y, z] = [await open(node2.url, "Gus"), await open(node2.url, "Hal"), await open(node2.url, "Ivy")];
    const count = (outcome) => metric(node2.url, "sockside_hook_requests_total", { hook: "event", outcome });
    const [timeouts, overloaded] = [await count("timeout"), await count("overloaded")];
    s.next.signal("SIGSTOP"); // Next accepts connections (the kernel does) but answers nothing
    try {
      const answered = [];
      const ask = (socket, who) => socket.timeout(T).emitWithAck("note:list").then((ack) => (answered.push(who), ack));
      const slow = [ask(x, "x"), ask(y, "y")];
      await until("two hook requests in flight", async () => (await metric(node2.url, "sockside_hook_requests_in_flight")) === 2);
      // Both slots are taken: the third event does not wait for them.
      assert.deepEqual(await ask(z, "z"), { ok: false, error: "hooks unavailable" });
      assert.deepEqual(answered, ["z"], "the refused event is answered before the slow ones");
      for (const ack of await Promise.all(slow)) assert.deepEqual(ack, { ok: false, error: "hooks unavailable" });
      assert.equal(await count("overloaded"), overloaded + 1);
      assert.equal(await count("timeout"), timeouts + 2);
      assert.equal(await metric(node2.url, "sockside_hook_requests_in_flight"), 0);
    } finally {
      s.next.signal("SIGCONT");
    }
    // The app answers again (note:add: the list is over this node's 4 KiB by now).
    const again = await x.timeout(T).emitWithAck("note:add", { text: "back" });
    assert.equal(again.ok, true, `${JSON.stringify(again)}\n${node2.logs().slice(-1500)}`);
  });

  test("the hooks route handler refuses a forged, a stale and a replayed request", async () => {
    const body = { id: "x", namespace: "/notes", sid: "s", event: "note:add", args: [{ text: "forged" }], ack: true };
    const ts = String(Math.floor(Date.now() / 1000));
    for (const headers of [{}, { "X-Sockside-Timestamp": ts, "X-Sockside-Signature": `v1=${"0".repeat(64)}` }]) {
      const res = await fetch(`${s.next.url}/api/sockside/event`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
      assert.equal(res.status, 401, JSON.stringify(headers));
    }
    // Signed with the right secret, but 6 minutes old.
    const stale = await hookRequest(s.next.url, "event", { ...body, id: "stale" }, Math.floor(Date.now() / 1000) - 360);
    assert.deepEqual([stale.status, await stale.json()], [401, { ok: false, error: "timestamp too old or too far ahead" }]);
    // A genuine request is answered once; the same bytes again are a replay.
    const list = { id: `list-${Date.now()}`, namespace: "/notes", sid: "s", user: { id: "u-Ada", name: "Ada" }, data: null, rooms: [], event: "note:list", args: [], ack: true };
    const ts2 = Math.floor(Date.now() / 1000);
    const first = await hookRequest(s.next.url, "event", list, ts2);
    assert.equal(first.status, 200);
    assert.ok(Array.isArray((await first.json()).ack?.[0]));
    const again = await hookRequest(s.next.url, "event", list, ts2);
    assert.deepEqual([again.status, await again.json()], [401, { ok: false, error: "replayed request" }]);
  });

  test("the app down: /notes answers connect_error \"hooks unavailable\", the Go namespaces are still served", async () => {
    await s.next.stop();
    const token = signToken(authSecret, { sub: "u-2", name: "Zoe", exp: Math.floor(Date.now() / 1000) + 60 });
    const direct = `http://127.0.0.1:${goPort()}`;
    const down = await connectPolling(direct, "/notes", { token });
    assert.equal(down.type, "4");
    assert.equal(down.body.message, "hooks unavailable");
    assert.equal((await connectPolling(direct, "/chat", { token })).type, "0");
  });
});
