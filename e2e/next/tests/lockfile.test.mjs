// The fixture install check: npm's lockfile must pin what the fixture's
// lockfile pins; only other platforms' optional packages may come and go.
import assert from "node:assert/strict";
import { test } from "node:test";
import { lockDrift } from "../lib/cache.mjs";

const lock = (packages) => ({ lockfileVersion: 3, packages });
const base = {
  "": { name: "fixture" },
  "node_modules/next": { version: "16.4.6", integrity: "sha512-a" },
  "node_modules/@next/swc-linux-x64-gnu": { version: "16.4.6", integrity: "sha512-b", optional: true },
};

test("other platforms' optional packages may be listed or not", () => {
  const withDarwin = lock({ ...base, "node_modules/@next/swc-darwin-arm64": { version: "16.4.6", integrity: "sha512-c", optional: true } });
  assert.deepEqual(lockDrift(lock(base), withDarwin), []);
  assert.deepEqual(lockDrift(withDarwin, lock(base)), []);
});

test("a changed version or integrity is drift", () => {
  assert.deepEqual(lockDrift(lock(base), lock({ ...base, "node_modules/next": { version: "16.4.7", integrity: "sha512-a" } })), [
    "node_modules/next 16.4.6 -> 16.4.7",
  ]);
  assert.equal(lockDrift(lock(base), lock({ ...base, "node_modules/next": { version: "16.4.6", integrity: "sha512-x" } })).length, 1);
});

test("a package that is not optional may not come or go", () => {
  assert.deepEqual(lockDrift(lock(base), lock({ ...base, "node_modules/evil": { version: "1.0.0" } })), ["node_modules/evil only in npm's"]);
  const { ["node_modules/next"]: _, ...without } = base;
  assert.deepEqual(lockDrift(lock(base), lock(without)), ["node_modules/next only in the fixture's"]);
});
