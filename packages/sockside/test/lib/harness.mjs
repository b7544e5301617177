// What the tests share: the real server binary (through the repository's
// e2e/lib/server.mjs: SOCKSIDE_BIN, else built once into e2e/.cache), an
// app server on a free port, and bounded waits (no sleeps: every wait polls
// a condition or awaits an event, up to a deadline).
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export { startServer, signToken } from "../../../../e2e/lib/server.mjs";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** The fixed signature vector the Go tests check too. */
export function signatureVector() {
  return JSON.parse(readFileSync(join(repoRoot, "hooks/testdata/signature-v1.json"), "utf8"));
}

/** until polls check until it returns true, up to ms. */
export async function until(check, what, ms = 15000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** once resolves with the arguments of emitter's next event, rejecting after ms. */
export function once(emitter, event, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const listener = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, listener);
  });
}

/** listen serves a node:http listener on a free port of 127.0.0.1; close() ends it and its connections. */
export async function listen(listener) {
  const server = createServer(listener);
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    server,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A queue of values another party pushes and a test awaits in order, bounded. */
export class Inbox {
  #items = [];
  #waiters = [];
  push(v) {
    const w = this.#waiters.shift();
    if (w) w(v);
    else this.#items.push(v);
  }
  next(what = "a value", ms = 10000) {
    if (this.#items.length) return Promise.resolve(this.#items.shift());
    return new Promise((resolve, reject) => {
      const waiter = (v) => {
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`timed out waiting for ${what}`));
      }, ms);
      this.#waiters.push(waiter);
    });
  }
  get size() {
    return this.#items.length;
  }
}
