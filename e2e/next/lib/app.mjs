// One fixture app per (version, mode): a temporary copy of the fixture with
// the cached node_modules hard-linked in, wired by nextconfig to a running
// server, built when the mode needs it, and served by Next.
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fixturesDir, installNext } from "./cache.mjs";
import { cleanEnv, run, start } from "./proc.mjs";

export const MODES = ["dev", "start", "standalone"];

/**
 * Copies the fixture to a fresh folder outside the repository (so Next takes
 * the copy for the project root, as for any app with its own lockfile) with
 * the cached install's node_modules hard-linked in: real files, which
 * Turbopack needs (a node_modules symlink leaving the root is refused), at
 * the cost of a link per file.
 */
export async function copyApp(fixture) {
  const cached = await installNext(fixture);
  const dir = mkdtempSync(join(tmpdir(), `sockside-${fixture}-`));
  cpSync(join(fixturesDir, fixture), dir, {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|\.next)$/.test(src),
  });
  try {
    await run("cp", ["-al", join(cached, "node_modules"), join(dir, "node_modules")], { ms: 120_000 });
  } catch {
    // another file system (a tmpfs /tmp): copy instead
    rmSync(join(dir, "node_modules"), { recursive: true, force: true });
    await run("cp", ["-a", join(cached, "node_modules"), join(dir, "node_modules")], { ms: 300_000 });
  }
  return dir;
}

/**
 * Runs nextconfig on the app for target and then `nextconfig -check`, and
 * returns both outputs. Run from e2e/next, which has no .env: the generator
 * sees the server's defaults, as the server started by the test does.
 */
export async function wire(nextconfig, dir, target, extraArgs = []) {
  const args = ["-dir", dir, "-target", target, ...extraArgs];
  const opts = { cwd: join(fixturesDir, ".."), env: cleanEnv(), ms: 60_000 };
  const generate = await run(nextconfig, args, opts);
  const check = await run(nextconfig, [...args, "-check"], { ...opts, okCodes: [0, 1] });
  return { generate: generate.output, check: check.output, checkCode: check.code };
}

function nextBin(dir) {
  return join(dir, "node_modules/next/dist/bin/next");
}

/** next build (standalone output for that mode), with env added to the clean one; returns its duration. */
export async function build(dir, mode, env = {}) {
  const started = Date.now();
  env = cleanEnv({ ...env, ...(mode === "standalone" ? { FIXTURE_OUTPUT: "standalone" } : {}) });
  await run(process.execPath, [nextBin(dir), "build"], { cwd: dir, env, ms: 10 * 60_000, name: `next build (${mode})` });
  if (mode === "standalone") {
    const server = standaloneServer(dir);
    // Next leaves the client assets out of the standalone folder.
    cpSync(join(dir, ".next/static"), join(dirname(server), ".next/static"), { recursive: true });
    if (existsSync(join(dir, "public"))) cpSync(join(dir, "public"), join(dirname(server), "public"), { recursive: true });
  }
  return Date.now() - started;
}

/** .next/standalone/.../server.js (nested when Next picked a wider root). */
function standaloneServer(dir) {
  const top = join(dir, ".next/standalone");
  const direct = join(top, "server.js");
  if (existsSync(direct)) return direct;
  const found = [];
  const walk = (d) => {
    for (const e of readdirSync(d)) {
      if (e === "node_modules") continue;
      const p = join(d, e);
      if (e === "server.js" && statSync(p).isFile()) found.push(p);
      else if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(top);
  if (found.length !== 1) throw new Error(`standalone server.js in ${top}: found ${found.map((f) => relative(top, f)).join(", ") || "none"}`);
  return found[0];
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/**
 * Serves the app the mode's way on 127.0.0.1 and resolves once Next says it is
 * ready: `next dev`, `next start`, or the standalone server.js with PORT and
 * HOSTNAME, with env added to the clean environment. A port taken between
 * picking and binding is picked again.
 */
export async function serve(dir, mode, { readyMs = 180_000, env = {} } = {}) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let proc;
    if (mode === "standalone") {
      const server = standaloneServer(dir);
      proc = start(process.execPath, [server], {
        cwd: dirname(server),
        env: cleanEnv({ ...env, PORT: String(port), HOSTNAME: "127.0.0.1", NODE_ENV: "production" }),
        name: `standalone server.js :${port}`,
      });
    } else {
      proc = start(process.execPath, [nextBin(dir), mode, "-H", "127.0.0.1", "-p", String(port)], {
        cwd: dir,
        env: cleanEnv(env),
        name: `next ${mode} :${port}`,
      });
    }
    try {
      await proc.waitFor(/Ready in/, readyMs, '"Ready in"');
      return { port, url: `http://127.0.0.1:${port}`, proc, stop: () => proc.stop() };
    } catch (err) {
      await proc.stop();
      if (attempt < 3 && /EADDRINUSE/.test(proc.logs())) continue;
      throw err;
    }
  }
}

/** The fixture's pinned Next version. */
export function nextVersion(fixture) {
  return JSON.parse(readFileSync(join(fixturesDir, fixture, "package.json"), "utf8")).dependencies.next;
}
