// The Python hooks example (examples/hooks-python/app.py, standard library
// only) behind the real server, driven by the official client: what
// docs/hooks.md promises a back end that is not Node (Rails, Django, ...).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "../lib/server.mjs";
import { connect, connected, once, ask, collect } from "../lib/client.mjs";

const app = resolve(dirname(fileURLToPath(import.meta.url)), "../../examples/hooks-python/app.py");
const hasPython = spawnSync("python3", ["--version"], { stdio: "ignore" }).status === 0;
const secret = randomBytes(24).toString("hex");

/** Starts app.py on a free port; resolves once it prints its address. */
async function startApp(timeoutMs = 10000) {
  const proc = spawn("python3", [app], {
    env: { PATH: process.env.PATH, HOOKS_SECRET: secret, PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let logs = "";
  proc.stderr.on("data", (b) => { logs += b; });
  const exited = new Promise((res) => proc.on("exit", (code, signal) => res({ code, signal })));
  const addr = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`app.py did not start in ${timeoutMs} ms:\n${out}${logs}`)), timeoutMs);
    proc.stdout.on("data", (b) => {
      out += b;
      const m = /^listening on (\S+)$/m.exec(out);
      if (m) { clearTimeout(timer); res(m[1]); }
    });
    exited.then(({ code }) => { clearTimeout(timer); rej(new Error(`app.py exited (${code}) before listening:\n${out}${logs}`)); });
  });
  return {
    url: `http://${addr}`,
    logs: () => logs,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      const res = await exited;
      clearTimeout(timer);
      return res;
    },
  };
}

/** Polls the app's record of disconnect hooks until one for sid arrives. */
async function disconnectOf(hooksApp, sid, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const seen = await (await fetch(`${hooksApp.url}/hooks/_seen`)).json();
    const got = seen.find((d) => d.sid === sid);
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`no disconnect hook for ${sid} within ${ms} ms: ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 25)); // the poll's interval, not a synchronisation
  }
}

describe("hooks answered by the Python example", { skip: hasPython ? false : "python3 is not installed: the Python hooks example cannot run" }, () => {
  let hooksApp, server, ada, bob;
  const open = async (opts = {}) => connected(connect(`${server.url}/notes`, opts));

  before(async () => {
    hooksApp = await startApp();
    server = await startServer({
      SOCKET_HOOKS_URL: `${hooksApp.url}/hooks`,
      SOCKET_HOOKS_SECRET: secret,
      SOCKET_HOOKS_NAMESPACES: "/notes",
    });
    ada = await open({ extraHeaders: { Cookie: "session=ada" } });
    bob = await open({ extraHeaders: { Cookie: "session=bob" } });
  });
  after(async () => {
    ada?.close();
    bob?.close();
    await server?.stop();
    await hooksApp?.stop();
  });

  test("a connect without the session cookie is refused with the app's error and data", async () => {
    const s = connect(`${server.url}/notes`);
    try {
      const err = await connected(s).then(() => null, (e) => e);
      assert.ok(err, "connected without a session");
      assert.equal(err.message, "sign in first");
      assert.deepEqual(err.data, { signIn: "/login" });
    } finally { s.close(); }
  });

  test("note:add is acked and note:added reaches the whole board, sender included", async () => {
    const atAda = once(ada, "note:added");
    const atBob = once(bob, "note:added");
    const ack = await ask(ada, "note:add", { text: "hello" });
    assert.equal(ack.ok, true);
    assert.equal(typeof ack.id, "number");
    const note = { id: ack.id, text: "hello", from: "ada" };
    assert.deepEqual(await atAda, note);
    assert.deepEqual(await atBob, note);
  });

  test("an empty note is refused in the ack", async () => {
    assert.deepEqual(await ask(bob, "note:add", { text: "" }), { ok: false, error: "text must not be empty" });
  });

  test("note:list acks the notes kept so far", async () => {
    const list = await ask(bob, "note:list");
    assert.deepEqual(list, [{ id: 1, text: "hello", from: "ada" }]);
  });

  test("typing is relayed by the server to the others in the board, not to the sender", async () => {
    const atAda = collect(ada, "typing");
    const atBob = once(bob, "typing");
    assert.deepEqual(await ask(ada, "typing", { on: true }), { ok: true });
    assert.deepEqual(await atBob, { on: true });
    // A broadcast to ada sent after the relay arrives after it would have.
    const later = once(ada, "note:added");
    await ask(bob, "note:add", { text: "after typing" });
    await later;
    assert.deepEqual(atAda, []);
  });

  test("a client disconnect reaches the disconnect hook with its reason", async () => {
    const sid = bob.id;
    bob.disconnect();
    assert.deepEqual(await disconnectOf(hooksApp, sid), { sid, reason: "client namespace disconnect" });
  });
});
