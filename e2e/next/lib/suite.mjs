// The cases every (Next version, mode) pair runs, against one server, one
// wired and built copy of the fixture, and one Next process. The cases run
// concurrently: each has its own sockets.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { binaries, fixturesDir } from "./cache.mjs";
import { build, copyApp, nextVersion, serve, wire } from "./app.mjs";
import { startServer } from "./server.mjs";
import { exitOnSignals } from "./proc.mjs";
import { TRANSPORTS, ack, connect, connected, get, upgraded, wsFirstMessage } from "./client.mjs";

const sha = (b) => createHash("sha256").update(b).digest("hex");

/**
 * defineSuite registers the cases for fixture (next16, next15, ...) served in
 * mode (dev, start, standalone). longPoll adds the 60 s polling session.
 */
export function defineSuite({ fixture, mode, longPoll = false }) {
  const version = nextVersion(fixture);
  const major = Number(version.split(".")[0]);
  const vulnerable = major < 15; // below the SSRF fix: nextconfig refuses without the flag
  // The app's own next.config and proxy/middleware, which nextconfig must wire, not replace.
  const own = readdirSync(join(fixturesDir, fixture));
  const configFile = own.find((f) => /^next\.config\.\w+$/.test(f));
  const hookFile = own.find((f) => /^(proxy|middleware)\.\w+$/.test(f));
  const hookHeader = `x-fixture-${hookFile.split(".")[0]}`;
  const ctx = { timings: {} };
  exitOnSignals();

  // Wraps a case so that its failure shows what Next and the server said.
  const withLogs = (fn) => async (t) => {
    try {
      await fn(t);
    } catch (err) {
      err.message += `\n--- ${ctx.next?.proc.name ?? "next"} (last lines) ---\n${ctx.next?.proc.tail(3000) ?? ""}\n--- sockside (last lines) ---\n${ctx.server?.proc.tail(1500) ?? ""}`;
      throw err;
    }
  };
  const timed = async (name, fn) => {
    const started = Date.now();
    const r = await fn();
    ctx.timings[name] = Date.now() - started;
    return r;
  };

  describe(`Next ${version} ${mode}`, { concurrency: true }, () => {
    before(async () => {
      const bins = await timed("binaries", () => binaries());
      // The server first: its port is baked into the rewrites at build time.
      ctx.server = await timed("server", () => startServer(bins.sockside));
      ctx.dir = await timed("install+copy", () => copyApp(fixture));
      ctx.wiring = await timed("nextconfig", () => wire(bins.nextconfig, ctx.dir, ctx.server.url, vulnerable ? ["-allow-vulnerable-next"] : []));
      if (mode !== "dev") await timed("build", () => build(ctx.dir, mode));
      ctx.next = await timed("ready", () => serve(ctx.dir, mode));
      ctx.url = ctx.next.url;
      // next dev compiles the proxy/middleware and the pages on first request.
      await timed("first page", async () => {
        for (const path of ["/", "/about"]) {
          const r = await get(ctx.url + path, {}, 300_000);
          assert.equal(r.status, 200, `GET ${path}: ${r.status}\n${ctx.next.proc.tail()}`);
        }
      });
    });

    after(async () => {
      await ctx.next?.stop();
      await ctx.server?.stop();
      if (ctx.dir && !process.env.KEEP_NEXT_APPS) rmSync(ctx.dir, { recursive: true, force: true });
    });

    test("nextconfig wires the app's own config and hook, -check passes", withLogs(async (t) => {
      const { generate, check, checkCode } = ctx.wiring;
      for (const file of [configFile, hookFile]) {
        assert.ok(generate.split("\n").some((l) => /^wired +/.test(l) && l.endsWith(`/${file} (the app's own)`)), `${file} not wired:\n${generate}`);
      }
      assert.doesNotMatch(generate, /^to do:/m, generate);
      if (vulnerable) assert.match(generate, /warning: vulnerable Next\.js release/, generate);
      assert.match(generate, /^created +\S*\/with-socket-io\.\w+$/m, generate);
      assert.match(generate, /^created +\S*\/socket-io-trailing-slash\.\w+$/m, generate);
      assert.equal(checkCode, 0, `nextconfig -check after generating:\n${check}`);
      assert.doesNotMatch(check, /^would /m, check);
      t.diagnostic(`setup ms: ${JSON.stringify(ctx.timings)}`);
    }));

    for (const [name, transports] of Object.entries(TRANSPORTS)) {
      test(`${name}: connects through Next, echo acks, whoami`, withLogs(async () => {
        const socket = connect(ctx.url, transports);
        try {
          await connected(socket);
          const args = ["hello", 42, { nested: [1, "two", null] }, true];
          assert.deepEqual(await ack(socket, 10_000, "echo", ...args), args);
          if (name === "upgrade") await upgraded(socket);
          const want = name === "polling" ? "polling" : "websocket";
          assert.equal(socket.io.engine.transport.name, want);
          const [who] = await ack(socket, 10_000, "whoami");
          assert.equal(who.transport, want, JSON.stringify(who));
          assert.equal(who.id, socket.id, JSON.stringify(who));
          assert.equal(who.recovered, false);
        } finally {
          socket.disconnect();
        }
      }));

      test(`${name}: 500 KB binary echo is intact`, withLogs(async () => {
        const socket = connect(ctx.url, transports);
        try {
          await connected(socket);
          if (name === "upgrade") await upgraded(socket);
          const payload = randomBytes(500 * 1024);
          const [back, tag] = await ack(socket, 60_000, "echo", payload, "tag");
          assert.ok(Buffer.isBuffer(back), `echo gave ${typeof back}`);
          assert.equal(back.length, payload.length);
          assert.equal(sha(back), sha(payload));
          assert.equal(tag, "tag");
          assert.equal(socket.io.engine.transport.name, name === "polling" ? "polling" : "websocket");
        } finally {
          socket.disconnect();
        }
      }));
    }

    test("the app's own rewrite and proxy/middleware still work", withLogs(async () => {
      const header = hookHeader;
      for (const path of ["/", "/about", "/old-blog/hello"]) {
        const r = await get(ctx.url + path);
        assert.equal(r.status, 200, `GET ${path}`);
        assert.equal(r.headers[header], fixture, `GET ${path}: ${header}`);
        if (path !== "/") assert.match(r.body, /fixture about/, `GET ${path}`);
      }
    }));

    test("/about/ redirects to /about on the browser's host", withLogs(async (t) => {
      const host = `127.0.0.1:${ctx.next.port}`;
      const seen = [];
      for (const [query, headers, origin] of [
        ["", {}, `http://${host}`],
        ["?q=1&r=two", {}, `http://${host}`],
        // a named host (DNS pointing at Next)
        ["", { host: `app.example.test:${ctx.next.port}` }, `http://app.example.test:${ctx.next.port}`],
        // behind a reverse proxy: the browser's host and scheme come forwarded
        ["", { "x-forwarded-host": "app.example.test", "x-forwarded-proto": "https" }, "https://app.example.test"],
      ]) {
        const r = await get(`${ctx.url}/about/${query}`, headers);
        assert.equal(r.status, 308, `GET /about/${query}`);
        const location = r.headers.location;
        assert.ok(location, "Location");
        seen.push(location);
        let want = origin;
        if (major < 16) {
          assert.match(location, /^https?:\/\//, "Next 14/15 need an absolute Location");
          // Next 14/15 rewrite a middleware redirect to the request's own host
          // through NextURL, which spells every loopback host "localhost".
          want = origin.replace(/^http:\/\/127\.0\.0\.1:/, "http://localhost:");
        } else {
          assert.ok(location.startsWith("/") || location.startsWith(`${origin}/`), `Location ${location}: relative or on ${origin}`);
        }
        assert.equal(new URL(location, origin).href, `${want}/about${query}`);
      }
      t.diagnostic(`Location: ${seen.join(" | ")}`);
      // the socket path is not redirected
      const r = await get(`${ctx.url}/socket.io/?EIO=4&transport=polling`);
      assert.equal(r.status, 200);
      assert.match(r.body, /^0\{.*"sid":/);
    }));

    if (mode === "dev") {
      test("the dev HMR websocket still connects", withLogs(async (t) => {
        // As the browser does: Next 16 opens /_next/hmr?id=<the page's request id>,
        // 15 (and 14) /_next/webpack-hmr (next/dist/client/dev/hot-reloader).
        let path = "/_next/webpack-hmr";
        if (major >= 16) {
          const page = await get(ctx.url + "/");
          const id = /__next_r\s*=\s*\\?["']([^"'\\]+)/.exec(page.body)?.[1];
          path = `/_next/hmr${id ? `?id=${encodeURIComponent(id)}` : ""}`;
        }
        const { opened, message } = await wsFirstMessage(`ws://127.0.0.1:${ctx.next.port}${path}`, ctx.url, 60_000);
        assert.ok(opened);
        const { type, action } = JSON.parse(message);
        t.diagnostic(`${path}: open, first message ${type ?? action}`);
      }));
    }

    if (longPoll) {
      test("a 60 s polling-only session with the default ping stays connected", withLogs(async (t) => {
        const socket = connect(ctx.url, TRANSPORTS.polling);
        try {
          await connected(socket);
          const engine = socket.io.engine;
          const sid = engine.id;
          const id = socket.id;
          let pings = 0;
          let pongs = 0;
          let closed = null;
          let longest = 0;
          let pollStarted = 0;
          engine.on("ping", () => pings++);
          engine.on("packetCreate", (p) => p.type === "pong" && pongs++);
          engine.on("close", (reason) => (closed = reason));
          engine.transport.on("poll", () => (pollStarted = Date.now()));
          engine.transport.on("pollComplete", () => {
            if (pollStarted) longest = Math.max(longest, Date.now() - pollStarted);
          });
          const started = Date.now();
          // Pings come at about 25 s and 50 s: done once 60 s have passed and two
          // pongs have gone out, failed at a close or when 95 s pass without that.
          await new Promise((res, rej) => {
            let minimumOver = false;
            const check = () => {
              if (closed) finish(rej, new Error(`engine closed after ${Date.now() - started} ms: ${closed}`));
              else if (minimumOver && pongs >= 2) finish(res);
            };
            const minimum = setTimeout(() => {
              minimumOver = true;
              check();
            }, 60_000);
            const deadline = setTimeout(() => finish(rej, new Error(`only ${pings} pings, ${pongs} pongs in 95 s`)), 95_000);
            engine.on("packetCreate", check);
            engine.on("close", check);
            const finish = (f, v) => {
              clearTimeout(minimum);
              clearTimeout(deadline);
              engine.off("packetCreate", check);
              engine.off("close", check);
              f(v);
            };
          });
          assert.ok(socket.connected);
          assert.equal(engine.id, sid);
          assert.equal(socket.id, id);
          assert.equal(engine.transport.name, "polling");
          assert.ok(pings >= 2 && pongs >= 2, `${pings} pings, ${pongs} pongs`);
          // The server held a GET until the ping (25 s, under Next's 30 s proxy timeout).
          assert.ok(longest >= 20_000, `longest long-poll ${longest} ms`);
          assert.deepEqual(await ack(socket, 10_000, "echo", "still here"), ["still here"]);
          t.diagnostic(`${pings} pings, ${pongs} pongs in ${Date.now() - started} ms; longest long-poll ${longest} ms`);
        } finally {
          socket.disconnect();
        }
      }));
    }
  });
}
