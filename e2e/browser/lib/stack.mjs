// The pieces of a browser test: the real server binary on the port the Next
// build rewrites to, `next start` of that build on a free port, and Debian's
// Chromium driven by playwright-core. run.mjs picks the port and builds once.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer } from "../../lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, "../../..");
export const webDir = join(root, "web");
export const artifacts = join(root, "e2e/browser/artifacts");

/** The server port baked into the Next build's rewrites (run.mjs sets it). */
export function goPort() {
  const p = Number(process.env.SOCKSIDE_E2E_GO_PORT);
  if (!p) throw new Error("SOCKSIDE_E2E_GO_PORT is not set: run the suite with `node run.mjs`");
  return p;
}

export const emitSecret = "e2e-emit-secret-0123456789";

/** freePort asks the kernel for a port nobody listens on. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/**
 * startGo starts the real binary on the build's port with the emit API on
 * and a fast feed; env adds to or overrides that.
 */
export function startGo(env = {}) {
  return startServer({
    SOCKET_PORT: String(goPort()),
    SOCKET_EMIT_SECRET: emitSecret,
    FEED_INTERVAL: "300ms",
    ...env,
  });
}

/**
 * startNext runs `next start` of web/'s build (or `next dev` with dev: true)
 * on a free port with env (the server-side settings: SOCKET_EMIT_SECRET,
 * SOCKET_AUTH_SECRET) and resolves once path answers. stop() ends its
 * process group.
 */
export async function startNext(env = {}, { dev = false, path = "/", timeoutMs = dev ? 120000 : 30000 } = {}) {
  const port = await freePort();
  const command = dev ? "dev" : "start";
  const proc = spawn(process.execPath, [join(webDir, "node_modules/next/dist/bin/next"), command, "-H", "127.0.0.1", "-p", String(port)], {
    cwd: webDir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: dev ? "development" : "production",
      NEXT_TELEMETRY_DISABLED: "1",
      SOCKET_INTERNAL_URL: `http://127.0.0.1:${goPort()}`,
      SOCKET_EMIT_SECRET: emitSecret,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so stop() reaches any child
  });
  let logs = "";
  proc.stdout.on("data", (b) => (logs += b));
  proc.stderr.on("data", (b) => (logs += b));
  const exited = new Promise((res) => proc.on("exit", (code, signal) => res({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`next ${command} exited (${proc.exitCode}):\n${logs}`);
    try {
      // In dev the first request compiles the page: allow it time.
      const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(dev ? 60000 : 2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      killGroup(proc, "SIGKILL");
      throw new Error(`next ${command} did not answer in ${timeoutMs} ms:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    logs: () => logs,
    /** signal sends sig to its process group (SIGSTOP and SIGCONT: an app that stops answering, then goes on). */
    signal(sig) {
      killGroup(proc, sig);
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      killGroup(proc, "SIGTERM");
      killGroup(proc, "SIGCONT"); // a stopped group takes the SIGTERM once it runs again
      const timer = setTimeout(() => killGroup(proc, "SIGKILL"), 10000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function killGroup(proc, signal) {
  try {
    process.kill(-proc.pid, signal);
  } catch {
    // already gone
  }
}

/** Flags for headless Chromium in CI: no sandbox (root), no GPU, no calls home. */
export const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/**
 * launchBrowser starts Debian's Chromium (CHROMIUM_PATH to override)
 * headless; Playwright gives it a fresh temporary profile (user-data dir),
 * and each newContext() is isolated (own cookies and storage).
 */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: chromiumArgs,
  });
}

/** screenshot saves the page under e2e/browser/artifacts (git-ignored) for a person to look at. */
export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/**
 * stack starts the server, Next and a browser for a test file and returns
 * them with a stop() that ends all three (call it in after()).
 */
export async function stack({ goEnv = {}, nextEnv = {}, dev = false, path } = {}) {
  const stoppers = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => {});
  };
  try {
    let go = await startGo(goEnv);
    stoppers.push(() => go.stop());
    const next = await startNext(nextEnv, { dev, path });
    stoppers.push(() => next.stop());
    const browser = await launchBrowser();
    stoppers.push(() => browser.close());
    return {
      get go() {
        return go;
      },
      next,
      browser,
      /** restartGo stops the server (SIGTERM, graceful drain) and starts it again on the same port. */
      async stopGo() {
        await go.stop();
      },
      async startGoAgain(env = goEnv) {
        go = await startGo(env);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
