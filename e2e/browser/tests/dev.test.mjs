// `next dev` (what `make dev` runs): the same rewrite is active, Next's own
// HMR websocket still connects next to it, and chat works under React strict
// mode's double effects.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { stack } from "../lib/stack.mjs";
import { T, openChat, say, until, waitBadge, waitMessages } from "../lib/page.mjs";

describe("next dev", () => {
  let s;
  before(async () => {
    s = await stack({ dev: true, path: "/chat" });
  });
  after(() => s?.stop());

  test("HMR socket and chat socket both connect; chat works", async () => {
    const [ctxA, ctxB] = [await s.browser.newContext(), await s.browser.newContext()];
    try {
      const a = await ctxA.newPage();
      const opened = [];
      a.on("websocket", (ws) => opened.push({ url: ws.url(), ws }));
      const b = await ctxB.newPage();
      await openChat(a, s.next.url, { name: "devon", room: "dev" });
      await openChat(b, s.next.url, { name: "erin", room: "dev" });
      await waitBadge(a, "connected", { transport: "websocket" });

      const hmr = opened.find((o) => /^\/_next\/(webpack-)?hmr/.test(new URL(o.url).pathname));
      assert.ok(hmr, `Next's HMR websocket opened: ${JSON.stringify(opened.map((o) => o.url))}`);
      assert.equal(hmr.ws.isClosed(), false, "and stays open");
      // Strict mode mounts twice; the client layer still has one socket.
      // (The guest socket before the name was set may take a moment to go.)
      await until(async () => {
        const stats = await (await fetch(`${s.go.url}/api/stats`)).json();
        const chat = stats.sockets["/chat"] ?? {};
        return (chat.polling ?? 0) + (chat.websocket ?? 0) === 2 || JSON.stringify(stats.sockets);
      });

      await say(a, "hot reload me");
      assert.deepEqual(await waitMessages(b, 1), [{ from: "devon", text: "hot reload me" }]);
      await b.locator("[data-testid=members]", { hasText: "2" }).waitFor({ timeout: T });
    } finally {
      await ctxA.close();
      await ctxB.close();
    }
  });
});
