// One allow-list drives CORS headers and the websocket upgrade check;
// same-origin requests through Next's rewrite (X-Forwarded-Host) pass.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, metric } from "../lib/server.mjs";
import { TRANSPORTS, connect, connected, ask } from "../lib/client.mjs";

const ALLOWED = "http://app.example.test:8080";
let server;
before(async () => { server = await startServer({ SOCKET_CORS_ORIGINS: `${ALLOWED}, https://other.example.test` }); });
after(async () => { await server?.stop(); });

const handshake = (headers) => fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { headers });

test("polling handshake from a listed origin gets credentials CORS headers", async () => {
  const res = await handshake({ Origin: ALLOWED });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
  assert.equal(res.headers.get("access-control-allow-credentials"), "true");
});

test("preflight from a listed origin is answered", async () => {
  const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, {
    method: "OPTIONS",
    headers: { Origin: ALLOWED, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
  });
  assert.ok(res.status === 204 || res.status === 200, `status ${res.status}`);
  assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
});

test("an unlisted origin is refused on polling with 403", async () => {
  const res = await handshake({ Origin: "http://evil.example.test" });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get("access-control-allow-origin"), null);
  assert.deepEqual(await res.json(), { code: 403, message: "origin not allowed" });
});

test("same-origin through Next's rewrite passes (X-Forwarded-Host is the browser's host)", async () => {
  const res = await handshake({ Origin: "http://localhost:3000", "X-Forwarded-Host": "localhost:3000" });
  assert.equal(res.status, 200);
});

for (const [mode, transports] of Object.entries(TRANSPORTS)) {
  test(`socket.io-client from a listed origin connects (${mode})`, async () => {
    const s = connect(server.url, { transports, extraHeaders: { origin: ALLOWED } });
    try {
      await connected(s);
      assert.equal((await ask(s, "echo", 1)), 1);
    } finally { s.close(); }
  });

  test(`socket.io-client from an unlisted origin is refused (${mode})`, async () => {
    const s = connect(server.url, { transports, extraHeaders: { origin: "http://evil.example.test" } });
    try {
      await assert.rejects(connected(s), (err) => {
        assert.match(String(err.message), /xhr poll error|websocket error|403/);
        return true;
      });
    } finally { s.close(); }
  });

  test(`socket.io-client same-origin via X-Forwarded-Host connects (${mode})`, async () => {
    const s = connect(server.url, { transports, extraHeaders: { origin: "https://shop.example.test", "x-forwarded-host": "shop.example.test" } });
    try {
      await connected(s);
    } finally { s.close(); }
  });
}

test("the plain endpoints use the same list", async () => {
  const ok = await fetch(`${server.url}/api/emit`, { method: "OPTIONS", headers: { Origin: ALLOWED, "Access-Control-Request-Method": "POST" } });
  assert.equal(ok.headers.get("access-control-allow-origin"), ALLOWED);
  const bad = await fetch(`${server.url}/api/emit`, { method: "OPTIONS", headers: { Origin: "http://evil.example.test", "Access-Control-Request-Method": "POST" } });
  assert.equal(bad.headers.get("access-control-allow-origin"), null);
});

test("origin refusals are counted", async () => {
  assert.ok((await metric(server.url, "sockside_handshakes_rejected_total", { reason: "origin" })) >= 1);
});

test("with no list, only same-origin and non-browser clients pass", async () => {
  const strict = await startServer({});
  try {
    const h = (headers) => fetch(`${strict.url}/socket.io/?EIO=4&transport=polling`, { headers });
    assert.equal((await h({})).status, 200);
    assert.equal((await h({ Origin: "http://evil.example.test" })).status, 403);
    assert.equal((await h({ Origin: strict.url })).status, 200);
    const s = connect(strict.url, { transports: ["websocket"], extraHeaders: { origin: "http://evil.example.test" } });
    await assert.rejects(connected(s));
    s.close();
  } finally { await strict.stop(); }
});
