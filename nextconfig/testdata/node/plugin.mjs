// Calls a rendered withSocketIO (the file in argv[2]) the way Next does,
// on configs of every shape, and prints what comes back as JSON for
// node_test.go to compare with the model.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
const { withSocketIO } = file.endsWith('.cjs')
  ? createRequire(import.meta.url)(file)
  : await import(pathToFileURL(file).href);

const own = [{ source: '/old/:slug', destination: '/new/:slug' }];
const configs = {
  none: {},
  array: { rewrites: async () => own },
  groups: { rewrites: async () => ({ beforeFiles: own, fallback: own }) },
  syncFunction: { rewrites: () => own },
  merged: { trailingSlash: true, env: { A: 'b' }, experimental: { proxyTimeout: 120000, other: true } },
  devOrigins: { allowedDevOrigins: ['dev.example', 'localhost'] },
};

const out = {};
for (const [name, config] of Object.entries(configs)) {
  const wrapped = withSocketIO(config);
  out[name] = {
    skipTrailingSlashRedirect: wrapped.skipTrailingSlashRedirect,
    env: wrapped.env,
    experimental: wrapped.experimental ?? null,
    allowedDevOrigins: wrapped.allowedDevOrigins ?? null,
    rewrites: await wrapped.rewrites(),
  };
}
out.target = await withSocketIO({}, { target: 'http://other:9/' }).rewrites();

const byPhase = withSocketIO(async (phase, { defaultConfig }) => ({ ...defaultConfig, distDir: phase }));
const resolved = await byPhase('phase-production-build', { defaultConfig: { reactStrictMode: true } });
out.phase = { distDir: resolved.distDir, reactStrictMode: resolved.reactStrictMode, rewrites: await resolved.rewrites() };

try {
  await withSocketIO({ rewrites: async () => ({ fallback: [{ source: '/socket.io/:path*', destination: 'http://x/' }] }) }).rewrites();
  out.conflict = null;
} catch (err) {
  out.conflict = err.message;
}
console.log(JSON.stringify(out));
