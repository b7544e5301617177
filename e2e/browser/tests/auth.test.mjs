// SOCKET_AUTH_SECRET on both sides: the socket is refused without a token;
// the sign-in route handler sets the httpOnly cookie, the same-origin
// handshake through the rewrite carries it, and chat shows the token's name.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { screenshot, stack } from "../lib/stack.mjs";
import { signToken } from "../../lib/server.mjs";
import { T, say, waitBadge, waitJoined, waitMessages } from "../lib/page.mjs";

const secret = "e2e-auth-secret-0123456789abcdef";

describe("auth", () => {
  let s;
  before(async () => {
    s = await stack({ goEnv: { SOCKET_AUTH_SECRET: secret }, nextEnv: { SOCKET_AUTH_SECRET: secret } });
  });
  after(() => s?.stop());

  test("unauthenticated: the socket fails with unauthorized, and stats are refused", async () => {
    const ctx = await s.browser.newContext();
    try {
      const page = await ctx.newPage();
      await page.goto(`${s.next.url}/chat`);
      await waitBadge(page, "offline", { error: "unauthorized" });
      await page.getByTestId("signin-hint").waitFor({ timeout: T });
      await screenshot(page, "auth-refused");

      // A token signed with another secret is no better.
      await ctx.addCookies([{ name: "sockside_token", value: signToken("not-the-secret-0123456789", { sub: "x", name: "Mallory", exp: Math.floor(Date.now() / 1000) + 60 }), url: s.next.url }]);
      await page.reload();
      await waitBadge(page, "offline", { error: "unauthorized" });

      await page.goto(`${s.next.url}/status`);
      await page.locator("[data-testid=readiness]", { hasText: "unauthorized" }).waitFor({ timeout: T });
    } finally {
      await ctx.close();
    }
  });

  test("sign-in sets the httpOnly cookie, the socket connects through the rewrite, and chat shows the name", async () => {
    const [ctxA, ctxB] = [await s.browser.newContext(), await s.browser.newContext()];
    try {
      const a = await ctxA.newPage();
      await a.goto(`${s.next.url}/signin?next=/chat`);
      await a.locator("input[name=name]").fill("Carol");
      await a.getByRole("button", { name: "Sign in" }).click();
      await a.waitForURL(`${s.next.url}/chat`, { timeout: T });

      const [cookie] = (await ctxA.cookies()).filter((c) => c.name === "sockside_token");
      assert.ok(cookie, "the token cookie is set");
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, "Lax");
      const claims = JSON.parse(Buffer.from(cookie.value.split(".")[1], "base64url").toString());
      assert.equal(claims.name, "Carol");
      assert.ok(claims.sub && claims.exp > Date.now() / 1000);
      assert.equal(await a.evaluate(() => document.cookie.includes("sockside_token")), false, "scripts cannot read it");

      await waitBadge(a, "connected", { transport: "websocket" });
      await a.locator("input[name=room]").fill("members");
      await a.getByRole("button", { name: /^(Join|Rejoin)$/ }).click();
      await waitJoined(a);
      await a.locator("[data-testid=presence-event][data-user=Carol][data-event=join]").waitFor({ timeout: T });
      await a.locator("[data-testid=room-state]", { hasText: "you are Carol" }).waitFor({ timeout: T });

      // A second user, signed in the same way, sees Carol's messages by name.
      const b = await ctxB.newPage();
      await b.goto(`${s.next.url}/signin?next=/chat`);
      await b.locator("input[name=name]").fill("Dave");
      await b.getByRole("button", { name: "Sign in" }).click();
      await b.waitForURL(`${s.next.url}/chat`, { timeout: T });
      await b.locator("input[name=room]").fill("members");
      await b.getByRole("button", { name: /^(Join|Rejoin)$/ }).click();
      await waitJoined(b);
      await a.locator("[data-testid=presence-event][data-user=Dave][data-event=join]").waitFor({ timeout: T });
      await say(a, "hi Dave");
      assert.deepEqual(await waitMessages(b, 1), [{ from: "Carol", text: "hi Dave" }]);

      // The emit action is for signed-in users and says for whom.
      await a.getByLabel("server message").fill("build is green");
      await a.getByRole("button", { name: "Push from server" }).click();
      await b.locator('[data-testid=message][data-from="server (for Carol)"]', { hasText: "build is green" }).waitFor({ timeout: T });
      // ...while the route handler refuses a caller without the cookie.
      const res = await fetch(`${s.next.url}/api/notify`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ room: "members", text: "anonymous" }),
      });
      assert.equal(res.status, 401);
      await screenshot(b, "auth-chat");

      // With the cookie, the stats are readable too.
      await a.goto(`${s.next.url}/status`);
      await a.locator("[data-testid=readiness]", { hasText: "ready" }).waitFor({ timeout: T });
    } finally {
      await ctxA.close();
      await ctxB.close();
    }
  });
});
