// npm's prepare: builds dist/ (tsc) whenever the package is installed from
// its folder (npm install <path>, a file: dependency such as web/'s, npm
// pack, npm ci here). Installed that way from a fresh clone, the folder has
// no node_modules yet: its dev dependencies (TypeScript) are installed
// first, from the lockfile.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dir = dirname(dirname(fileURLToPath(import.meta.url)));
const tsc = join(dir, "node_modules/typescript/bin/tsc");

function run(args, what) {
  const r = spawnSync(process.execPath, args, { cwd: dir, stdio: "inherit", env: cleanEnv() });
  if (r.status !== 0) {
    console.error(`sockside prepare: ${what} failed (${r.error?.message ?? `exit ${r.status}`})`);
    process.exit(1);
  }
}

// The outer npm's per-script variables describe its own project: leave
// them out of the nested npm, but keep where the cache is and offline modes.
function cleanEnv() {
  const keep = new Set(["npm_config_cache", "npm_config_offline", "npm_config_prefer_offline", "npm_config_userconfig", "npm_config_registry"]);
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_") || keep.has(k.toLowerCase())));
}

if (!existsSync(tsc)) {
  const npm = process.env.npm_execpath;
  if (!npm || !existsSync(npm)) {
    console.error("sockside prepare: TypeScript is not installed here: run npm ci in packages/sockside first");
    process.exit(1);
  }
  run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], "npm ci (the dev dependencies)");
}
run([tsc, "-p", "tsconfig.json"], "tsc");
