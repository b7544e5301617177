// What the Next e2e suite installs or builds once and reuses between cases and
// runs: the server and generator binaries, and one node_modules per fixture
// (Next version) in e2e/.cache/next/<fixture>-<hash of its package-lock.json>.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cleanEnv, run } from "./proc.mjs";

export const here = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const repo = resolve(here, "../..");
export const cacheRoot = join(repo, "e2e/.cache/next");
export const fixturesDir = join(here, "fixtures");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

/**
 * Runs fn holding the lock `name` (a directory: mkdir is atomic), so that test
 * files running in parallel install or build a thing once. A lock left by a
 * process that died is taken over.
 */
export async function withLock(name, fn, { ms = 15 * 60_000 } = {}) {
  mkdirSync(cacheRoot, { recursive: true });
  const lock = join(cacheRoot, `${name}.lock`);
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
      let owner = 0;
      try {
        owner = Number(readFileSync(join(lock, "pid"), "utf8"));
      } catch {
        // being created or removed: look again
      }
      if (owner && !alive(owner)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`lock ${lock} still held by pid ${owner} after ${ms} ms`);
      await sleep(250); // the holder is installing or building: look again
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The server and nextconfig binaries: SOCKSIDE_BIN and NEXTCONFIG_BIN (the
 * Makefile builds them), else built from the working tree into the cache.
 */
export async function binaries() {
  const out = {};
  for (const [key, env, pkg] of [["sockside", "SOCKSIDE_BIN", "./server"], ["nextconfig", "NEXTCONFIG_BIN", "./nextconfig"]]) {
    if (process.env[env]) {
      out[key] = process.env[env];
      continue;
    }
    const bin = join(cacheRoot, "bin", key);
    await withLock(`bin-${key}`, async () => {
      mkdirSync(dirname(bin), { recursive: true });
      const tmp = `${bin}.${process.pid}`;
      await run("go", ["build", "-o", tmp, pkg], { cwd: repo, env: cleanEnv(), ms: 10 * 60_000 });
      renameSync(tmp, bin);
    });
    out[key] = bin;
  }
  return out;
}

/**
 * The application module of examples/embed (the README's step 4: /notes,
 * note:add): SOCKSIDE_EMBED_BIN (the Makefile builds it), else built from
 * the working tree into the cache.
 */
export async function embedBinary() {
  if (process.env.SOCKSIDE_EMBED_BIN) return process.env.SOCKSIDE_EMBED_BIN;
  const bin = join(cacheRoot, "bin", "embed-example");
  await withLock("bin-embed-example", async () => {
    mkdirSync(dirname(bin), { recursive: true });
    const tmp = `${bin}.${process.pid}`;
    // a module of its own (replace => ../..): built from its folder
    await run("go", ["build", "-o", tmp, "."], { cwd: join(repo, "examples/embed"), env: cleanEnv(), ms: 10 * 60_000 });
    renameSync(tmp, bin);
  });
  return bin;
}

/** The fixtures (one per Next version), by folder name: next16, next15, ... */
export function fixtures() {
  return readdirSync(fixturesDir).filter((f) => existsSync(join(fixturesDir, f, "package.json")));
}

/**
 * The packages on which two lockfiles disagree, ignoring optional packages
 * that only one of them lists: npm records the other platforms' optional
 * packages (@next/swc-darwin-*, ...) only when the registry it resolved
 * against serves them, so the same install writes a lockfile with or without
 * them depending on the registry, while everything this platform installs
 * stays pinned.
 */
export function lockDrift(want, got) {
  const a = want.packages ?? {};
  const b = got.packages ?? {};
  const out = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (!(key in a) || !(key in b)) {
      if (!(a[key] ?? b[key]).optional) out.push(`${key || "(root)"} only in ${key in a ? "the fixture's" : "npm's"}`);
      continue;
    }
    if (a[key].version !== b[key].version || a[key].integrity !== b[key].integrity) out.push(`${key || "(root)"} ${a[key].version} -> ${b[key].version}`);
  }
  return out;
}

/**
 * Installs the fixture's dependencies once into the cache, keyed by its
 * package-lock.json, and returns that folder (it holds package.json,
 * package-lock.json and node_modules). Older installs of the fixture go.
 */
export async function installNext(fixture) {
  const src = join(fixturesDir, fixture);
  const lock = readFileSync(join(src, "package-lock.json"));
  const key = `${fixture}-${createHash("sha256").update(lock).digest("hex").slice(0, 16)}`;
  const dir = join(cacheRoot, key);
  const marker = join(dir, ".installed");
  if (existsSync(marker)) return dir;
  return withLock(fixture, async () => {
    if (existsSync(marker)) return dir;
    for (const old of readdirSync(cacheRoot)) {
      if (old.startsWith(`${fixture}-`) && !old.endsWith(".lock")) rmSync(join(cacheRoot, old), { recursive: true, force: true });
    }
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(src, "package.json"), join(dir, "package.json"));
    copyFileSync(join(src, "package-lock.json"), join(dir, "package-lock.json"));
    const started = Date.now();
    // `npm install`, not `npm ci`: npm writes lockfiles without the other
    // platforms' optional packages (@next/swc-darwin-*) when the registry it
    // resolved against lacks them, and `npm ci` then refuses the lockfile as
    // out of sync. The check below keeps the install pinned all the same.
    await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: dir,
      env: cleanEnv(),
      ms: 15 * 60_000,
    });
    const drift = lockDrift(JSON.parse(lock), JSON.parse(readFileSync(join(dir, "package-lock.json"), "utf8")));
    if (drift.length > 0) {
      throw new Error(
        `e2e/next/fixtures/${fixture}/package-lock.json does not match its package.json (${drift.slice(0, 5).join(", ")}): run npm install there`,
      );
    }
    const want = JSON.parse(readFileSync(join(src, "package.json"), "utf8")).dependencies.next;
    const got = JSON.parse(readFileSync(join(dir, "node_modules/next/package.json"), "utf8")).version;
    if (got !== want) throw new Error(`${fixture}: installed next ${got}, want ${want}`);
    writeFileSync(marker, `next ${got}, installed in ${Date.now() - started} ms\n`);
    return dir;
  });
}
