// The connection badge through its states, and what the client layer does
// about lost connections: re-joining after a server restart (a new server
// cannot recover the session), recovering a dropped transport with its rooms
// intact, and flushing messages queued while offline, in order.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { screenshot, stack } from "../lib/stack.mjs";
import { T, messages, openChat, say, waitBadge, waitJoined, waitMessages } from "../lib/page.mjs";

describe("reconnect", () => {
  let s;
  before(async () => {
    s = await stack();
  });
  after(() => s?.stop());

  test("server restart: reconnecting, then connected and back in the room", async () => {
    const [ctxA, ctxB] = [await s.browser.newContext(), await s.browser.newContext()];
    try {
      const a = await ctxA.newPage();
      const b = await ctxB.newPage();
      await openChat(a, s.next.url, { name: "fred", room: "restart" });
      await openChat(b, s.next.url, { name: "gina", room: "restart" });
      await waitBadge(a, "connected", { transport: "websocket" });

      await s.stopGo();
      await waitBadge(a, "reconnecting");
      await waitBadge(b, "reconnecting");
      await screenshot(a, "badge-reconnecting");

      await s.startGoAgain();
      // A new process: nothing to recover, so the client layer joins again.
      await waitBadge(a, "connected", { recovered: false });
      await waitBadge(b, "connected", { recovered: false });
      await waitJoined(a);
      await waitJoined(b);
      await a.locator("[data-testid=members]", { hasText: "2" }).waitFor({ timeout: T });

      await say(a, "still here?");
      const seen = await waitMessages(b, 1);
      assert.deepEqual(seen, [{ from: "fred", text: "still here?" }]);
      await waitBadge(a, "connected", { transport: "websocket" });
    } finally {
      await ctxA.close();
      await ctxB.close();
    }
  });

  test("offline: badge offline, sends queued, then recovered with the room intact and the queue flushed in order", async () => {
    const [ctxA, ctxB] = [await s.browser.newContext(), await s.browser.newContext()];
    try {
      const a = await ctxA.newPage();
      const b = await ctxB.newPage();
      await openChat(a, s.next.url, { name: "hank", room: "offline" });
      await openChat(b, s.next.url, { name: "iris", room: "offline" });
      await waitBadge(a, "connected", { transport: "websocket" });

      await ctxA.setOffline(true);
      await waitBadge(a, "offline");
      for (const t of ["q1", "q2", "q3", "q4"]) await say(a, t);
      await a.locator("[data-testid=outgoing][data-state=queued]").nth(3).waitFor({ timeout: T });
      await a.getByTestId("badge").filter({ hasText: "4 queued" }).waitFor({ timeout: T });
      await screenshot(a, "badge-offline-queued");
      assert.equal((await messages(b)).length, 0, "nothing left while offline");

      await ctxA.setOffline(false);
      // The transport dropped but the server lived: the session comes back
      // (same rooms, no re-join needed), then the queue goes out in order.
      await waitBadge(a, "connected", { recovered: true });
      const seenB = await waitMessages(b, 4);
      assert.deepEqual(seenB.map((m) => m.text), ["q1", "q2", "q3", "q4"]);
      assert.ok(seenB.every((m) => m.from === "hank"));
      const seenA = await waitMessages(a, 4);
      assert.deepEqual(seenA, seenB);
      await a.waitForFunction(() => document.querySelectorAll("[data-testid=outgoing]").length === 0, null, { timeout: T });
      await waitBadge(a, "connected", { transport: "websocket" });
    } finally {
      await ctxA.close();
      await ctxB.close();
    }
  });
});
