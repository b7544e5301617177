// /notes, the demo's hook namespace: no Go code serves it; the server signs
// each connect and event over to web/'s route handler (createHooksHandler),
// which reads the next-auth session from the forwarded cookie, keeps the
// board and answers. A server action pushes to it through the emit API.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { goPort, screenshot, stack } from "../lib/stack.mjs";
import { T, waitBadge } from "../lib/page.mjs";
import { signToken } from "../../lib/server.mjs";

const authSecret = "e2e-auth-secret-0123456789abcdef";
const hooksSecret = "e2e-hooks-secret-0123456789abcdef0123";

async function signIn(page, base, name) {
  await page.goto(`${base}/signin?next=/notes`);
  await page.locator("input[name=name]").fill(name);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/notes`, { timeout: T });
}

async function addNote(page, text, button = "Add", field = "input[name=text]:not([aria-label])") {
  await page.locator(field).fill(text);
  await page.getByRole("button", { name: button }).click();
}

/** connectPolling opens an Engine.IO session at base and connects it to nsp with auth; it returns the CONNECT answer. */
async function connectPolling(base, nsp, auth) {
  const url = `${base}/socket.io/?EIO=4&transport=polling`;
  const { sid } = JSON.parse((await (await fetch(url)).text()).slice(1));
  const post = await fetch(`${url}&sid=${sid}`, { method: "POST", body: `40${nsp},${JSON.stringify(auth)}` });
  assert.equal(post.status, 200);
  const payload = await (await fetch(`${url}&sid=${sid}`, { signal: AbortSignal.timeout(T) })).text();
  const answer = payload.split("\x1e")[0]; // the CONNECT answer comes first; events may follow it
  assert.ok(answer.startsWith(`4`) && answer.includes(`${nsp},`), answer);
  return { type: answer[1], body: JSON.parse(answer.slice(answer.indexOf(",") + 1)) };
}

const note = (page, from, text) => page.locator(`[data-testid=note][data-from="${from}"]`, { hasText: text });

describe("notes (hooks to route handlers, next-auth session)", () => {
  let s;
  before(async () => {
    const shared = { SOCKET_AUTH_SECRET: authSecret };
    s = await stack({ goEnv: shared, nextEnv: { ...shared, SOCKET_HOOKS_SECRET: hooksSecret } });
    // The hooks point at the Next server, whose port is known only now.
    await s.stopGo();
    await s.startGoAgain({ ...shared, SOCKET_HOOKS_URL: `${s.next.url}/api/sockside`, SOCKET_HOOKS_SECRET: hooksSecret });
  });
  after(() => s?.stop());

  test("without a session: the server's JWT check refuses first; past it, the connect hook refuses with the app's message and data", async () => {
    const ctx = await s.browser.newContext();
    try {
      const page = await ctx.newPage();
      await page.goto(`${s.next.url}/notes`);
      await waitBadge(page, "offline", { error: "unauthorized" }); // the Go server's SOCKET_AUTH_SECRET
      await page.getByTestId("signin-hint").waitFor({ timeout: T });
    } finally {
      await ctx.close();
    }
    // A token the server accepts, but no next-auth session cookie: the app
    // decides, over Engine.IO long-polling through Next's rewrite.
    const token = signToken(authSecret, { sub: "u-1", name: "Eve", exp: Math.floor(Date.now() / 1000) + 60 });
    const refused = await connectPolling(s.next.url, "/notes", { token });
    assert.deepEqual(refused, { type: "4", body: { message: "sign in first", data: { signIn: "/signin?next=/notes" } } });
  });

  test("two signed-in users: note:add through the hooks reaches both, the list survives a reload, a server action pushes", async () => {
    const [ctxA, ctxB] = [await s.browser.newContext(), await s.browser.newContext()];
    try {
      const [a, b] = [await ctxA.newPage(), await ctxB.newPage()];
      await signIn(a, s.next.url, "Ada");
      await signIn(b, s.next.url, "Bob");
      await waitBadge(a, "connected");
      await waitBadge(b, "connected");

      await addNote(a, "ship it");
      await note(b, "Ada", "ship it").waitFor({ timeout: T });
      await note(a, "Ada", "ship it").waitFor({ timeout: T });
      // The relay: Bob sees Ada typing without the app being asked.
      await a.locator("input[name=text]:not([aria-label])").pressSequentially("x");
      await b.getByTestId("typing").waitFor({ timeout: T });

      // An invalid note is refused by the app's handler, as the ack's error.
      await a.locator("input[name=text]:not([aria-label])").fill("   ");
      await a.getByRole("button", { name: "Add" }).click();
      await a.getByTestId("notes-error").filter({ hasText: "text must be 1-500 characters" }).waitFor({ timeout: T });

      // The server action: emitted through POST /api/emit to the hook namespace.
      await addNote(b, "standup at 10", "Pin from server", "input[aria-label='server note']");
      await note(a, "server (for Bob)", "standup at 10").waitFor({ timeout: T });

      // The board is the app's: a reload gets it back with note:list.
      await b.reload();
      await note(b, "Ada", "ship it").waitFor({ timeout: T });
      await note(b, "server (for Bob)", "standup at 10").waitFor({ timeout: T });
      await screenshot(b, "notes");
    } finally {
      await ctxA.close();
      await ctxB.close();
    }
  });

  test("the hooks route handler refuses a request without a valid signature", async () => {
    const body = JSON.stringify({ id: "x", namespace: "/notes", sid: "s", event: "note:add", args: [{ text: "forged" }], ack: true });
    const ts = String(Math.floor(Date.now() / 1000));
    for (const headers of [{}, { "X-Sockside-Timestamp": ts, "X-Sockside-Signature": `v1=${"0".repeat(64)}` }]) {
      const res = await fetch(`${s.next.url}/api/sockside/event`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
      assert.equal(res.status, 401, JSON.stringify(headers));
    }
  });

  test("the app down: /notes answers connect_error \"hooks unavailable\", the Go namespaces are still served", async () => {
    await s.next.stop();
    const token = signToken(authSecret, { sub: "u-2", name: "Zoe", exp: Math.floor(Date.now() / 1000) + 60 });
    const direct = `http://127.0.0.1:${goPort()}`;
    const down = await connectPolling(direct, "/notes", { token });
    assert.equal(down.type, "4");
    assert.equal(down.body.message, "hooks unavailable");
    assert.equal((await connectPolling(direct, "/chat", { token })).type, "0");
  });
});
