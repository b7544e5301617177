// /feed, /echo and /status: the server's pushes, the plain WebSocket through
// the rewrite, and the dashboard's counts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { screenshot, stack } from "../lib/stack.mjs";
import { T, openChat, until, waitBadge } from "../lib/page.mjs";

describe("pages", () => {
  let s;
  before(async () => {
    s = await stack(); // FEED_INTERVAL=300ms
  });
  after(() => s?.stop());

  test("/feed shows the recent orders and keeps updating, newest first", async () => {
    const ctx = await s.browser.newContext();
    try {
      const page = await ctx.newPage();
      await page.goto(`${s.next.url}/feed`);
      await waitBadge(page, "connected", { transport: "websocket" });
      const count = () => page.getByTestId("received").textContent().then(Number);
      await page.waitForFunction(() => Number(document.querySelector("[data-testid=received]").textContent) >= 3, null, { timeout: T });
      const before = await count();
      await page.waitForFunction((n) => Number(document.querySelector("[data-testid=received]").textContent) >= n + 3, before, {
        timeout: T,
      });
      const ids = await page.getByTestId("order").evaluateAll((rows) => rows.map((r) => Number(r.dataset.id.replace(/\D/g, ""))));
      assert.ok(ids.length >= 6, `orders listed: ${ids.length}`);
      assert.deepEqual(ids, [...ids].sort((a, b) => b - a), "newest first");
      // The chart has bars for the last seconds.
      const bars = await page.locator("svg.chart rect").evaluateAll((rs) => rs.filter((r) => Number(r.getAttribute("height")) > 0).length);
      assert.ok(bars >= 1, "the chart shows orders per second");
      await screenshot(page, "feed");
    } finally {
      await ctx.close();
    }
  });

  test("/echo: native WebSocket to /ws through the rewrite, echo to the sender and broadcast to everyone", async () => {
    const [ctxA, ctxB] = [await s.browser.newContext(), await s.browser.newContext()];
    try {
      const a = await ctxA.newPage();
      const b = await ctxB.newPage();
      const urls = [];
      a.on("websocket", (ws) => urls.push(ws.url()));
      for (const p of [a, b]) {
        await p.goto(`${s.next.url}/echo`);
        await p.locator("[data-testid=ws-state][data-state=connected]").waitFor({ timeout: T });
      }
      assert.deepEqual(urls, [`${s.next.url.replace("http", "ws")}/ws`], "same origin, through the rewrite");

      await a.getByLabel("text").fill("ping");
      await a.getByRole("button", { name: "Echo", exact: true }).click();
      await a.locator("[data-testid=ws-entry][data-dir=in][data-type=echo]", { hasText: '"ping"' }).waitFor({ timeout: T });

      await a.getByLabel("text").fill("hello everyone");
      await a.getByRole("button", { name: "Broadcast", exact: true }).click();
      for (const p of [a, b]) {
        await p.locator("[data-testid=ws-entry][data-dir=in][data-type=broadcast]", { hasText: "hello everyone" }).waitFor({ timeout: T });
      }
      // The echo was for the sender only.
      assert.equal(await b.locator("[data-testid=ws-entry][data-type=echo]").count(), 0);
      await screenshot(a, "echo");
    } finally {
      await ctxA.close();
      await ctxB.close();
    }
  });

  test("/status shows readiness, sockets per namespace and transport, and event rates", async () => {
    const [ctxA, ctxB, ctxC] = [await s.browser.newContext(), await s.browser.newContext(), await s.browser.newContext()];
    try {
      const chat = await ctxA.newPage();
      await openChat(chat, s.next.url, { name: "stat", room: "stats" });
      await waitBadge(chat, "connected", { transport: "websocket" });
      const echo = await ctxB.newPage();
      await echo.goto(`${s.next.url}/echo`);
      await echo.locator("[data-testid=ws-state][data-state=connected]").waitFor({ timeout: T });

      const page = await ctxC.newPage();
      await page.goto(`${s.next.url}/status`);
      await page.locator("[data-testid=readiness]", { hasText: "ready" }).waitFor({ timeout: T });
      await page.locator('[data-testid=ns-row][data-ns="/chat"] td[data-transport=websocket]', { hasText: /^[1-9]/ }).waitFor({ timeout: T });
      await page.locator("[data-testid=plain-ws]", { hasText: /^[1-9]/ }).waitFor({ timeout: T });
      // Make events flow (a chat message), then see a rate.
      await chat.getByLabel("message", { exact: true }).fill("for the rates");
      await chat.getByLabel("message", { exact: true }).press("Enter");
      await page.waitForFunction(() => Number(document.querySelector("[data-testid=rate-in]").textContent) > 0, null, { timeout: T });
      await screenshot(page, "status");

      // The counts match the server's own view (the page polls each second).
      await until(async () => {
        const stats = await (await fetch(`${s.go.url}/api/stats`)).json();
        const want = stats.sockets["/chat"].polling + stats.sockets["/chat"].websocket;
        const shown = Number(await page.locator('[data-testid=ns-row][data-ns="/chat"] [data-testid=ns-total]').textContent());
        return shown === want || `page ${shown}, server ${want}`;
      });
    } finally {
      await ctxA.close();
      await ctxB.close();
      await ctxC.close();
    }
  });
});
