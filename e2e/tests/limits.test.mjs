// Abuse limits: an oversize payload closes only that connection; a flood is
// answered "rate limited" and a persistent offender is disconnected.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, metric } from "../lib/server.mjs";
import { TRANSPORTS, connect, connected, ask, once, upgraded } from "../lib/client.mjs";

let server;
before(async () => { server = await startServer({ SOCKET_MAX_PAYLOAD: "4096", SOCKET_RATE_LIMIT: "5" }); });
after(async () => { await server?.stop(); });

for (const [mode, transports] of Object.entries(TRANSPORTS)) {
  test(`an oversize payload closes only that connection (${mode})`, async () => {
    const bystander = connect(server.url, { transports });
    const big = connect(server.url, { transports });
    try {
      await Promise.all([connected(bystander), connected(big)]);
      if (mode === "upgrade") await upgraded(big);
      const gone = once(big, "disconnect");
      big.emit("echo", "x".repeat(20000));
      assert.match(await gone, /^transport (close|error)$/);
      assert.equal(await ask(bystander, "echo", "still here"), "still here");
      // a payload just under the limit is fine
      assert.equal((await ask(bystander, "echo", "y".repeat(3000))).length, 3000);
    } finally { bystander.close(); big.close(); }
  });

  test(`a flood is refused, then the offender is disconnected (${mode})`, async () => {
    const flooder = connect(server.url, { transports });
    const calm = connect(server.url, { transports });
    try {
      await Promise.all([connected(flooder), connected(calm)]);
      const reason = once(flooder, "disconnect-reason");
      const disconnected = once(flooder, "disconnect");
      const acks = [];
      for (let i = 0; i < 40; i++) flooder.emit("echo", i, (res) => acks.push(res));
      assert.deepEqual(await reason, { code: 4429, reason: "rate limit exceeded" });
      assert.equal(await disconnected, "io server disconnect");
      const ok = acks.filter((a) => typeof a === "number");
      const limited = acks.filter((a) => a?.error === "rate limited");
      assert.ok(ok.length >= 10, `burst of 2x the rate is allowed (got ${ok.length})`);
      assert.ok(limited.length >= 1, "refused events get an explicit ack");
      assert.deepEqual(limited[0], { ok: false, error: "rate limited" });
      // the well-behaved client never noticed
      assert.equal(await ask(calm, "echo", "fine"), "fine");
    } finally { flooder.close(); calm.close(); }
  });
}

test("drops are counted", async () => {
  assert.ok((await metric(server.url, "sockside_dropped_total", { reason: "rate_limited" })) >= 1);
  assert.ok((await metric(server.url, "sockside_dropped_total", { reason: "rate_limit_disconnect" })) >= 1);
});
