// The plain WebSocket endpoint at /ws for native browser WebSocket clients.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { startServer } from "../lib/server.mjs";
import { once } from "../lib/client.mjs";

let server;
before(async () => { server = await startServer({}); });
after(async () => { await server?.stop(); });

async function open(headers = {}) {
  const ws = new WebSocket(`${server.url.replace("http", "ws")}/ws`, { headers });
  await once(ws, "open");
  return ws;
}
const next = async (ws) => JSON.parse(String(await once(ws, "message")));

test("echo, broadcast and errors", async () => {
  const a = await open();
  const b = await open();
  try {
    a.send(JSON.stringify({ type: "echo", data: { x: [1, "two"] } }));
    const echo = await next(a);
    assert.equal(echo.type, "echo");
    assert.deepEqual(echo.data, { x: [1, "two"] });
    assert.equal(typeof echo.ts, "number");

    const atA = next(a), atB = next(b);
    a.send(JSON.stringify({ type: "broadcast", data: "hello all" }));
    for (const m of await Promise.all([atA, atB])) assert.deepEqual([m.type, m.data], ["broadcast", "hello all"]);

    a.send("{not json");
    assert.deepEqual(await next(a), { type: "error", error: "invalid JSON" });
    a.send(JSON.stringify({ type: "shout" }));
    assert.equal((await next(a)).type, "error");
    // still usable after errors
    a.send(JSON.stringify({ type: "echo", data: 1 }));
    assert.equal((await next(a)).data, 1);
  } finally { a.close(); b.close(); }
});

test("a foreign origin is refused", async () => {
  const ws = new WebSocket(`${server.url.replace("http", "ws")}/ws`, { headers: { Origin: "http://evil.example.test" } });
  const status = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error("no response")), 5000);
    ws.once("unexpected-response", (_req, r) => { clearTimeout(timer); res(r.statusCode); });
  });
  assert.equal(status, 403);
  ws.on("error", () => {}); // terminating a refused handshake reports an error
  ws.terminate();
});

test("clients get a going-away close on shutdown", async () => {
  const own = await startServer({});
  const ws = new WebSocket(`${own.url.replace("http", "ws")}/ws`);
  await once(ws, "open");
  const closed = new Promise((res) => ws.once("close", (code) => res(code)));
  await own.stop();
  assert.equal(await closed, 1001);
});
