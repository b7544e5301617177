// /chat in two isolated browser contexts: presence, one message order for
// everyone, the live input mirror, websocket through the rewrite, and a
// message pushed by the Next back end through the emit API.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { screenshot, stack } from "../lib/stack.mjs";
import { T, messages, openChat, say, until, waitBadge, waitMessages, waitText } from "../lib/page.mjs";

describe("chat", () => {
  let s;
  before(async () => {
    s = await stack();
  });
  after(() => s?.stop());

  test("two contexts see each other's presence, the same message order, and the live input", async () => {
    const [ctxA, ctxB] = [await s.browser.newContext(), await s.browser.newContext()];
    try {
      const a = await ctxA.newPage();
      const b = await ctxB.newPage();
      await openChat(a, s.next.url, { name: "alice", room: "lobby" });
      await openChat(b, s.next.url, { name: "bob", room: "lobby" });

      // Presence: alice sees bob arrive; both count two.
      await a.locator('[data-testid=presence-event][data-user=bob][data-event=join]').waitFor({ timeout: T });
      await a.locator("[data-testid=members]", { hasText: "2" }).waitFor({ timeout: T });
      await b.locator("[data-testid=members]", { hasText: "2" }).waitFor({ timeout: T });
      await waitText(b, "[data-testid=room-state]", "you are bob");

      // Interleaved senders: everyone sees the same order, and each sender's
      // own messages in the order sent.
      await Promise.all([
        (async () => {
          for (const t of ["a1", "a2", "a3"]) await say(a, t);
        })(),
        (async () => {
          for (const t of ["b1", "b2", "b3"]) await say(b, t);
        })(),
      ]);
      const seenA = await waitMessages(a, 6);
      const seenB = await waitMessages(b, 6);
      assert.deepEqual(seenA, seenB, "both contexts show the same messages in the same order");
      const texts = seenA.map((m) => m.text);
      assert.deepEqual(texts.filter((t) => t.startsWith("a")), ["a1", "a2", "a3"]);
      assert.deepEqual(texts.filter((t) => t.startsWith("b")), ["b1", "b2", "b3"]);
      assert.deepEqual(
        seenA.map((m) => m.from),
        texts.map((t) => (t.startsWith("a") ? "alice" : "bob")),
        "messages are stamped with the sender's name",
      );

      // The live input mirrors, both ways.
      await a.getByTestId("live-input").fill("alice is typing");
      await b.waitForFunction(() => document.querySelector("[data-testid=live-input]").value === "alice is typing", null, { timeout: T });
      await waitText(b, "[data-testid=live-from]", "last typed by alice");
      await b.getByTestId("live-input").fill("bob took over");
      await a.waitForFunction(() => document.querySelector("[data-testid=live-input]").value === "bob took over", null, { timeout: T });

      await screenshot(a, "chat-alice");
      await screenshot(b, "chat-bob");

      // Leaving: alice sees bob go.
      await b.close();
      await a.locator('[data-testid=presence-event][data-user=bob][data-event=leave]').waitFor({ timeout: T });
      await a.locator("[data-testid=members]", { hasText: "1" }).waitFor({ timeout: T });
    } finally {
      await ctxA.close();
      await ctxB.close();
    }
  });

  test("the socket upgrades to websocket through Next's rewrite, same origin", async () => {
    const ctx = await s.browser.newContext();
    try {
      const page = await ctx.newPage();
      const sockets = [];
      page.on("websocket", (ws) => sockets.push(ws.url()));
      const requests = [];
      page.on("request", (r) => requests.push(r.url()));
      await openChat(page, s.next.url, { name: "carol", room: "transport" });
      await waitBadge(page, "connected", { transport: "websocket" });

      const origin = new URL(s.next.url);
      assert.ok(
        sockets.some((u) => u.startsWith(`ws://${origin.host}/socket.io/?`) && u.includes("transport=websocket")),
        `a websocket to the page's own origin: ${JSON.stringify(sockets)}`,
      );
      const polls = requests.filter((u) => u.includes("/socket.io/"));
      assert.ok(polls.length > 0, "the handshake was long-polling first");
      assert.ok(polls.every((u) => u.startsWith(`${s.next.url}/socket.io/`)), `polling went to the page's origin: ${polls}`);

      // The server agrees (it counts the upgrade when it has processed it,
      // a moment after the browser switched).
      await until(async () => {
        const stats = await (await fetch(`${s.go.url}/api/stats`)).json();
        return stats.sockets["/chat"]?.websocket >= 1 || JSON.stringify(stats.sockets);
      });
    } finally {
      await ctx.close();
    }
  });

  test("the emit API, from a server action and from a route handler, reaches both contexts", async () => {
    const [ctxA, ctxB] = [await s.browser.newContext(), await s.browser.newContext()];
    try {
      const a = await ctxA.newPage();
      const b = await ctxB.newPage();
      await openChat(a, s.next.url, { name: "dora", room: "news" });
      await openChat(b, s.next.url, { name: "eve", room: "news" });

      // The chat page's button: a server action posting to POST /api/emit.
      await a.getByLabel("server message").fill("deploy finished");
      await a.getByRole("button", { name: "Push from server" }).click();
      for (const p of [a, b]) {
        await p.locator('[data-testid=message][data-from=server]', { hasText: "deploy finished" }).waitFor({ timeout: T });
      }
      await waitText(a, "[data-testid=notice]", "pushed through the emit API");

      // POST /api/notify: what a webhook would call.
      const res = await fetch(`${s.next.url}/api/notify`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ room: "news", text: "from a webhook" }),
      });
      assert.equal(res.status, 202, await res.text());
      for (const p of [a, b]) {
        await p.locator('[data-testid=message][data-from=server]', { hasText: "from a webhook" }).waitFor({ timeout: T });
      }
      // A bad request is refused by the route handler with the reason.
      const bad = await fetch(`${s.next.url}/api/notify`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ room: "", text: "x" }),
      });
      assert.equal(bad.status, 400);

      // The secret never reaches the browser.
      const html = await (await fetch(`${s.next.url}/chat`)).text();
      assert.ok(!html.includes("e2e-emit-secret"), "the emit secret is not in the page");
      assert.equal((await messages(b)).filter((m) => m.from === "server").length, 2);
      await screenshot(b, "chat-emit");
    } finally {
      await ctxA.close();
      await ctxB.close();
    }
  });
});
