// 2,000 connect/disconnect cycles across the three transports must leave the
// server's goroutine count (go_goroutines from /metrics) where it started.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer, metric } from "../lib/server.mjs";
import { TRANSPORTS, connect, connected, ask, upgraded } from "../lib/client.mjs";

const CYCLES = 2000;
const PARALLEL = 8;

/** Polls /metrics until no socket is connected, with a deadline. */
async function settled(url, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await metric(url, "sockside_sockets")) === 0) return;
    if (Date.now() > deadline) throw new Error("sockets still connected after churn");
    await new Promise((r) => setTimeout(r, 100));
  }
}

test(`${CYCLES} connect/disconnect cycles leak no goroutines`, { timeout: 240000 }, async () => {
  const server = await startServer({ SOCKET_RATE_LIMIT: "0" });
  try {
    // warm up once per transport so lazily started goroutines are counted in the baseline
    for (const transports of Object.values(TRANSPORTS)) {
      const s = connect(server.url, { transports });
      await connected(s);
      s.close();
    }
    await settled(server.url);
    const before = await metric(server.url, "go_goroutines");
    const modes = Object.entries(TRANSPORTS);
    let next = 0;
    const worker = async () => {
      while (next < CYCLES) {
        const i = next++;
        const [mode, transports] = modes[i % modes.length];
        const s = connect(i % 2 ? `${server.url}/chat` : server.url, { transports });
        await connected(s);
        if (mode === "upgrade") await upgraded(s);
        if (i % 10 === 0) await ask(s, i % 2 ? "join" : "echo", i % 2 ? { room: "churn" } : i);
        s.close();
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    await settled(server.url);
    const after = await metric(server.url, "go_goroutines");
    console.log(`goroutines before=${before} after=${after} (${CYCLES} cycles)`);
    assert.ok(after <= before + 20, `goroutines grew from ${before} to ${after}`);
  } finally { await server.stop(); }
});
