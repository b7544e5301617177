// Runs the browser suite: picks a free port for the server, builds web/ once
// with its rewrites pointing there (Next bakes rewrites into the build), then
// runs tests/*.test.mjs with node --test, one file at a time (they share that
// port). `node run.mjs --no-build` reuses the last build and its port.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, webDir } from "./lib/stack.mjs";

const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
if (!existsSync(chromiumPath)) {
  console.error(`${chromiumPath} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  process.exit(1);
}

const noBuild = process.argv.includes("--no-build");
let port;
if (noBuild) {
  port = builtPort();
  if (!port) {
    console.error("--no-build: no build of web/ with a sockside rewrite in web/.next");
    process.exit(1);
  }
} else {
  port = await freePort();
  const env = { ...process.env, SOCKET_INTERNAL_URL: `http://127.0.0.1:${port}`, NEXT_TELEMETRY_DISABLED: "1" };
  delete env.NEXT_PUBLIC_SOCKET_URL; // the suite tests the same-origin rewrite
  const started = Date.now();
  const build = spawnSync(process.execPath, [join(webDir, "node_modules/next/dist/bin/next"), "build"], {
    cwd: webDir,
    env,
    stdio: "inherit",
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
  console.log(`next build: ${((Date.now() - started) / 1000).toFixed(1)} s, rewrites to 127.0.0.1:${port}`);
}

const files = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const test = spawnSync(
  process.execPath,
  ["--test", "--test-concurrency=1", "--test-timeout=180000", ...(files.length ? files : ["tests/"])],
  { env: { ...process.env, SOCKSIDE_E2E_GO_PORT: String(port) }, stdio: "inherit" },
);
process.exit(test.status ?? 1);

/** builtPort reads the server port from the last build's socket rewrite. */
function builtPort() {
  try {
    const manifest = JSON.parse(readFileSync(join(webDir, ".next/routes-manifest.json"), "utf8"));
    const rule = manifest.rewrites.beforeFiles.find((r) => r.source === "/socket.io/");
    return Number(new URL(rule.destination).port) || undefined;
  } catch {
    return undefined;
  }
}
