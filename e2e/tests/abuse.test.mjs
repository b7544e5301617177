// Hostile input and slow or half-open clients (issue 7): each attack
// against the real binary, the limit that stops it, and a bystander that
// keeps working. Every wait has a deadline; every server and socket is
// stopped.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import WebSocket from "ws";
import { startServer, metric } from "../lib/server.mjs";
import { TRANSPORTS, connect, connected, ask, once } from "../lib/client.mjs";

const nested = (depth) => {
  let v = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

/** Retries check() every 50 ms until it returns truthy, or fails after ms. */
async function eventually(what, check, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A raw Engine.IO websocket that has joined namespace "/". */
async function rawSocket(url, { join = true } = {}) {
  const ws = new WebSocket(`${url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
  const frames = [];
  const waiters = [];
  ws.on("message", (data, isBinary) => {
    const s = isBinary ? data : String(data);
    if (s === "2") return ws.send("3");
    frames.push(s);
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise((res) => ws.on("close", () => res(Date.now())));
  ws.on("error", () => {});
  const next = (ms = 5000) => new Promise((res, rej) => {
    const take = () => { if (frames.length) { clearTimeout(timer); res(frames.shift()); return true; } return false; };
    const timer = setTimeout(() => rej(new Error(`no frame within ${ms} ms`)), ms);
    if (!take()) waiters.push(take);
  });
  await once(ws, "open");
  assert.match(await next(), /^0\{/);
  if (join) {
    ws.send("40");
    assert.match(await next(), /^40\{/);
  }
  return { ws, next, closed };
}

/** Resolves with the time the socket closed, or rejects after ms. */
function closedWithin(closed, ms) {
  return Promise.race([closed, new Promise((_, rej) => setTimeout(() => rej(new Error(`still open after ${ms} ms`)), ms))]);
}

async function handshake(url, headers = {}) {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers });
  const body = await res.text();
  return { status: res.status, body, sid: res.status === 200 ? JSON.parse(body.slice(1)).sid : undefined, retryAfter: res.headers.get("retry-after") };
}

const sessionGone = async (url, sid) =>
  (await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`)).status === 400;

describe("event payload limits", () => {
  let server;
  before(async () => { server = await startServer({ SOCKET_RATE_LIMIT: "0", SOCKET_ATTACHMENT_TIMEOUT: "500ms" }); });
  after(async () => { await server?.stop(); });

  for (const [mode, transports] of Object.entries(TRANSPORTS)) {
    test(`deep JSON and long event names are refused with an ack, the connection stays (${mode})`, async () => {
      const s = connect(server.url, { transports });
      try {
        await connected(s);
        assert.deepEqual(await ask(s, "echo", nested(31)), nested(31)); // 32 levels with the argument array
        assert.deepEqual(await ask(s, "echo", nested(32)), { ok: false, error: "payload nested deeper than 32 levels" });
        assert.deepEqual(await ask(s, "echo", { a: nested(1000) }), { ok: false, error: "payload nested deeper than 32 levels" });
        assert.deepEqual(await ask(s, "x".repeat(257)), { ok: false, error: "event name longer than 256 bytes" });
        assert.deepEqual(await ask(s, "echo", "still here"), "still here");
        assert.ok(s.connected);
      } finally { s.close(); }
    });
  }

  test("an announced attachment that never comes is reaped; a huge attachment count closes at once", async () => {
    const bystander = connect(server.url, { transports: ["websocket"] });
    const bomb = await rawSocket(server.url);
    const liar = await rawSocket(server.url);
    try {
      await connected(bystander);
      bomb.ws.send(`451000-["echo",{"_placeholder":true,"num":0}]`);
      await closedWithin(bomb.closed, 3000);
      const sent = Date.now();
      liar.ws.send(`451-["echo",{"_placeholder":true,"num":0}]`);
      const at = await closedWithin(liar.closed, 5000);
      assert.ok(at - sent >= 400, `reaped after ${at - sent} ms, before SOCKET_ATTACHMENT_TIMEOUT`);
      assert.equal(await ask(bystander, "echo", "fine"), "fine");
    } finally { bystander.close(); bomb.ws.terminate(); liar.ws.terminate(); }
  });

  test("an event for a namespace the socket never joined closes its connection", async () => {
    const r = await rawSocket(server.url);
    try {
      r.ws.send(`42/chat,["message",{"room":"a","text":"x"}]`);
      await closedWithin(r.closed, 3000);
    } finally { r.ws.terminate(); }
  });
});

test("a websocket peer that stops reading is cut off as a slow consumer; others get everything", async () => {
  const secret = "e2e-emit-secret-0123456789";
  const server = await startServer({ SOCKET_EMIT_SECRET: secret, SOCKET_SEND_BUFFER: "1000000", SOCKET_RATE_LIMIT: "0" });
  const healthy = connect(server.url, { transports: ["websocket"] });
  let stuck;
  try {
    await connected(healthy);
    stuck = await rawSocket(server.url);
    stuck.ws._socket.pause(); // stops reading: the kernel buffers fill, then the server's queue
    const got = [];
    healthy.on("blob", (b) => got.push(b.length));
    const blob = "z".repeat(900_000);
    const rounds = 40; // 36 MB offered to each socket: far beyond loopback's socket buffers
    for (let i = 0; i < rounds; i++) {
      const res = await fetch(`${server.url}/api/emit`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: JSON.stringify({ namespace: "/", event: "blob", data: blob }),
      });
      assert.equal(res.status, 202);
    }
    await eventually("the slow consumer cut off", async () => (await metric(server.url, "sockside_dropped_total", { reason: "slow_consumer" })) === 1, 10000);
    assert.match(server.logs(), /disconnecting slow consumer/);
    // A paused socket does not notice the close: read what the kernel
    // holds, then the end.
    stuck.ws._socket.resume();
    await closedWithin(stuck.closed, 10000);
    await eventually("every broadcast at the healthy client", () => got.length === rounds, 15000);
    assert.ok(got.every((n) => n === blob.length));
    assert.equal(await ask(healthy, "echo", "after"), "after");
  } finally {
    healthy.close();
    stuck?.ws.terminate();
    await server.stop();
  }
});

describe("half-open clients are reaped", () => {
  let server;
  before(async () => {
    server = await startServer({
      SOCKET_CONNECT_TIMEOUT: "1s", SOCKET_PING_INTERVAL: "300ms", SOCKET_PING_TIMEOUT: "300ms",
      SOCKET_READ_HEADER_TIMEOUT: "1s", SOCKET_HANDSHAKE_RATE: "0",
    });
  });
  after(async () => { await server?.stop(); });

  test("handshakes that never send a CONNECT are closed at SOCKET_CONNECT_TIMEOUT; goroutines return to baseline", async () => {
    const baseline = await metric(server.url, "go_goroutines");
    const sids = [];
    for (let i = 0; i < 300; i++) sids.push((await handshake(server.url)).sid);
    const ws = await Promise.all(Array.from({ length: 50 }, () => rawSocket(server.url, { join: false })));
    assert.ok(sids.every(Boolean));
    // Polling sessions that never poll again are reaped at the ping
    // timeout too; the websockets, which answer pings, only by the
    // connect timeout.
    await Promise.all(ws.map((r) => closedWithin(r.closed, 5000)));
    await eventually("every polling session gone", async () => (await Promise.all(sids.map((s) => sessionGone(server.url, s)))).every(Boolean));
    await eventually("goroutines back to baseline", async () => (await metric(server.url, "go_goroutines")) <= baseline + 20);
  });

  test("a polling client that never comes back is reaped at the ping timeout", async () => {
    const { sid } = await handshake(server.url);
    const base = `${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    assert.equal((await fetch(base, { method: "POST", body: "40" })).status, 200);
    assert.match(await (await fetch(base)).text(), /^40\{/);
    assert.equal(await metric(server.url, "sockside_sockets", { transport: "polling" }), 1);
    // ... and it never polls again: the ping goes unanswered.
    await eventually("session reaped", () => sessionGone(server.url, sid), 3000);
    await eventually("socket gone", async () => (await metric(server.url, "sockside_sockets", { transport: "polling" })) === 0);
  });

  test("slowloris: headers sent slowly are cut off at SOCKET_READ_HEADER_TIMEOUT", async () => {
    const { port, hostname } = new URL(server.url);
    const sock = net.connect(Number(port), hostname);
    sock.on("error", () => {});
    const closed = new Promise((res) => sock.on("close", () => res(Date.now())));
    await once(sock, "connect");
    const start = Date.now();
    sock.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const drip = setInterval(() => { if (!sock.destroyed) sock.write("X-Slow: a\r\n"); }, 200);
    try {
      const at = await closedWithin(closed, 5000);
      assert.ok(at - start >= 900, `cut off after ${at - start} ms`);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    } finally { clearInterval(drip); sock.destroy(); }
  });
});

describe("handshake flood", () => {
  let server;
  before(async () => { server = await startServer({ SOCKET_HANDSHAKE_RATE: "5", SOCKET_CONNECT_TIMEOUT: "1s" }); });
  after(async () => { await server?.stop(); });

  test("per client address (X-Forwarded-For from a trusted proxy): 429 past the burst, others unaffected", async () => {
    const a = { "x-forwarded-for": "203.0.113.7" };
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await handshake(server.url, a));
    const ok = results.filter((r) => r.status === 200).length;
    assert.ok(ok >= 10 && ok < 20, `${ok} of 20 allowed (burst 10)`);
    const refused = results.find((r) => r.status === 429);
    assert.deepEqual(JSON.parse(refused.body), { code: 429, message: "too many handshakes" });
    assert.equal(refused.retryAfter, "1");
    assert.equal((await handshake(server.url, { "x-forwarded-for": "203.0.113.8" })).status, 200);
    // A client's own X-Forwarded-For entry is not believed: the proxy's
    // entry (rightmost) is the client.
    assert.equal((await handshake(server.url, { "x-forwarded-for": "1.2.3.4, 203.0.113.7" })).status, 429);
    assert.ok((await metric(server.url, "sockside_handshakes_rejected_total", { reason: "rate_limited" })) >= 1);
  });

  test("socket.io-client gets connect_error carrying the 429", async () => {
    const s = connect(server.url, { transports: ["polling"], extraHeaders: { "x-forwarded-for": "203.0.113.7" } });
    try {
      const err = await connected(s).then(() => null, (e) => e);
      assert.ok(err, "connected despite the limit");
      assert.equal(err.message, "xhr poll error");
      assert.equal(err.description, 429);
    } finally { s.close(); }
  });

  test("a trusted proxy without X-Forwarded-For (Next's rewrite) is not limited", async () => {
    for (let i = 0; i < 30; i++) assert.equal((await handshake(server.url)).status, 200);
  });

  test("with SOCKET_TRUSTED_PROXIES=none the peer address itself is limited", async () => {
    const strict = await startServer({ SOCKET_HANDSHAKE_RATE: "5", SOCKET_TRUSTED_PROXIES: "none", SOCKET_CONNECT_TIMEOUT: "1s" });
    try {
      const statuses = [];
      for (let i = 0; i < 20; i++) statuses.push((await handshake(strict.url, { "x-forwarded-for": `198.51.100.${i}` })).status);
      assert.ok(statuses.includes(429), `statuses ${statuses}`);
    } finally { await strict.stop(); }
  });
});
