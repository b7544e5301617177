// The package as an app gets it: npm pack's tarball (only dist/, the
// README and the license), installed offline into a fresh app folder,
// type-checked there under the module resolutions apps use (bundler as in
// Next, nodenext as in plain Node) and imported at run time; and the entry
// points stay apart (nothing of the server in sockside/client's imports and
// the other way round).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];
const tsc = join(pkgDir, "node_modules/typescript/bin/tsc");

function run(cmd, args, cwd, env = {}) {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", timeout: 120000, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
}

describe("npm pack", () => {
  let tmp;
  let files;
  let app;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "sockside-pack-"));
    // dist/ is built by npm test (and by prepare); --ignore-scripts packs it as it is.
    const [info] = JSON.parse(run(npm[0], [...npm.slice(1), "pack", "--json", "--ignore-scripts", "--pack-destination", tmp], pkgDir));
    files = info.files.map((f) => f.path).sort();
    app = join(tmp, "app");
    run("mkdir", ["-p", app], tmp);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module", dependencies: { sockside: `file:../${info.filename}` } }));
    // The tarball alone, from the disk: no registry, no cache needed.
    run(npm[0], [...npm.slice(1), "install", "--offline", "--no-audit", "--no-fund", "--legacy-peer-deps", "--ignore-scripts", "--no-package-lock"], app);
    // The peers and the tools, as an app has them: this folder's own.
    for (const name of readdirSync(join(pkgDir, "node_modules"))) {
      if (name.startsWith(".")) continue;
      symlinkSync(join(pkgDir, "node_modules", name), join(app, "node_modules", name));
    }
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test("the tarball holds the build, the README and the license, nothing else", () => {
    assert.ok(files.includes("package.json") && files.includes("README.md") && files.includes("LICENSE"), files.join(" "));
    for (const entry of ["index", "client", "server"]) {
      assert.ok(files.includes(`dist/${entry}.js`), `dist/${entry}.js`);
      assert.ok(files.includes(`dist/${entry}.d.ts`), `dist/${entry}.d.ts`);
    }
    const other = files.filter((f) => !f.startsWith("dist/") && !["package.json", "README.md", "LICENSE"].includes(f));
    assert.deepEqual(other, []);
  });

  test("installed, it type-checks in an app (bundler and nodenext resolution)", () => {
    writeFileSync(
      join(app, "events.ts"),
      `export interface SocketEvents {
  '/notes': {
    serverToClient: { 'note:added': (n: { id: number; text: string }) => void };
    clientToServer: { 'note:add': (n: { text: string }, ack: (res: { ok: true; id: number } | { ok: false; error: string }) => void) => void };
  };
}
`,
    );
    writeFileSync(
      join(app, "client.tsx"),
      `'use client';
import { send, useEvent, withEvents, type ConnectionStatus } from 'sockside/client';
import type { SocketEvents } from './events.js';
const { useSocket } = withEvents<SocketEvents>();
export function Notes(): null {
  const { socket, status } = useSocket('/notes');
  const s: ConnectionStatus = status;
  void s;
  useEvent(socket, 'note:added', (n) => void n.text.toUpperCase());
  void send(socket, 'note:add', { text: 'hi' }).then((ack) => (ack.ok ? ack.id : ack.error));
  return null;
}
`,
    );
    writeFileSync(
      join(app, "route.ts"),
      `import { createEmitter, createHooksHandler, HookError, SocksideEmitError } from 'sockside/server';
import { BINARY_KEY, type EventAnswer } from 'sockside';
import type { SocketEvents } from './events.js';
export const POST = createHooksHandler<SocketEvents>({
  namespaces: {
    '/notes': {
      connect: ({ cookies, accept }) => (cookies.session ? accept({ user: { id: cookies.session } }) : undefined),
      events: {
        'note:add': ({ args: [n], emit }) => {
          if (!n.text) throw new HookError('text is required');
          emit('note:added', [{ id: 1, text: n.text }], { to: 'board' });
          return { ok: true, id: 1 };
        },
      },
    },
  },
});
const emit = createEmitter<SocketEvents>();
export async function push(): Promise<string> {
  try {
    await emit('/notes', 'note:added', { id: 1, text: 'x' }, { room: 'board' });
    return 'ok';
  } catch (err) {
    return err instanceof SocksideEmitError ? \`\${err.status} \${err.message}\` : 'other';
  }
}
export const answer: EventAnswer = { ack: [{ [BINARY_KEY]: 'aGk=' }] };
`,
    );
    const common = { strict: true, target: "ES2022", lib: ["ES2022", "DOM"], jsx: "react-jsx", noEmit: true, types: ["node"] };
    // Once with the libraries' .d.ts checked too (the package's own among them), once as Next's tsconfig has it.
    writeFileSync(join(app, "tsconfig.bundler.json"), JSON.stringify({ compilerOptions: { ...common, module: "esnext", moduleResolution: "bundler", skipLibCheck: true }, include: ["*.ts", "*.tsx"] }));
    writeFileSync(join(app, "tsconfig.node.json"), JSON.stringify({ compilerOptions: { ...common, module: "nodenext", moduleResolution: "nodenext", skipLibCheck: false }, include: ["*.ts", "*.tsx"] }));
    for (const config of ["tsconfig.bundler.json", "tsconfig.node.json"]) {
      try {
        run(process.execPath, [tsc, "-p", config], app);
      } catch (err) {
        assert.fail(`${config}:\n${err.stdout}${err.stderr}`);
      }
    }
  });

  test("installed, every entry point imports at run time", () => {
    const out = run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const root = await import('sockside'); const client = await import('sockside/client'); const server = await import('sockside/server');
         console.log(JSON.stringify([root.BINARY_KEY, typeof client.useSocket, typeof client.send, typeof server.createHooksHandler, typeof server.emit]));`,
      ],
      app,
    );
    assert.deepEqual(JSON.parse(out), ["_sockside_binary", "function", "function", "function", "function"]);
    assert.equal(pkg.exports["./client"].default, "./dist/client.js");
  });

  test("the entry points stay apart: the client imports no server code, the server no React", () => {
    // Static imports of a module of dist/, followed through the package's own files.
    const importsOf = (file, seen = new Set()) => {
      if (seen.has(file)) return [];
      seen.add(file);
      const src = readFileSync(join(pkgDir, "dist", file), "utf8");
      const specs = [...src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/gm), ...src.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
      return specs.flatMap((s) => (s.startsWith("./") ? [s, ...importsOf(s.slice(2), seen)] : [s]));
    };
    const client = importsOf("client.js");
    assert.deepEqual(client.filter((s) => !s.startsWith("./")).sort(), ["react", "socket.io-client"]);
    assert.ok(!client.some((s) => s.startsWith("node:") || /hooks|emit|server|binary/.test(s)), client.join(" "));
    const server = importsOf("server.js");
    assert.ok(!server.some((s) => s === "react" || s === "socket.io-client" || s.includes("client")), server.join(" "));
    assert.ok(importsOf("index.js").length === 0, "the shared entry imports nothing");
    assert.match(readFileSync(join(pkgDir, "dist/client.js"), "utf8"), /^'use client';/);
  });
});
