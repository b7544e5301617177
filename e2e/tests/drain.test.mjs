// SIGTERM drains: clients get a transport close (so socket.io-client
// reconnects, to another node behind a load balancer), and the process exits
// cleanly within SOCKET_DRAIN_TIMEOUT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TRANSPORTS, connect, connected, ask, once, upgraded } from "../lib/client.mjs";

test("SIGTERM disconnects every client reconnectably and exits 0", async () => {
  const server = await startServer({ SOCKET_DRAIN_TIMEOUT: "5s" });
  const clients = [];
  try {
    for (const [mode, transports] of Object.entries(TRANSPORTS)) {
      for (const nsp of ["/", "/chat", "/feed"]) {
        const s = connect(`${server.url}${nsp}`, { transports });
        await connected(s);
        if (mode === "upgrade") await upgraded(s);
        clients.push(s);
      }
    }
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    await ask(clients[0], "echo", "before drain");
    const reasons = clients.map((s) => once(s, "disconnect", 10000));
    const started = Date.now();
    server.proc.kill("SIGTERM");
    const { code } = await server.exited;
    assert.equal(code, 0, server.logs());
    assert.ok(Date.now() - started < 5000, "exits within the drain timeout");
    // socket.io-client reconnects after either transport reason (it stays
    // away only after "io server disconnect"). Websocket clients always see
    // a close; a polling client whose next GET is still on the wire when the
    // listener shuts can see its keep-alive connection end instead.
    for (const r of await Promise.all(reasons)) assert.match(r, /^transport (close|error)$/);
    assert.ok((await Promise.all(reasons)).filter((r) => r === "transport close").length >= 6, "websocket clients get a clean close");
    assert.match(server.logs(), /msg=draining/);
    assert.match(server.logs(), /msg=stopped/);
  } finally {
    clients.forEach((s) => s.close());
    await server.stop();
  }
});
