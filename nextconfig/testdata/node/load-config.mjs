// Loads the next.config of the app in argv[2] with the Next installed for
// it, as `next dev` does (Next's own loader: next.config.ts compiled, the
// config validated against Next's schema), and prints as JSON what
// nextconfig puts in it and the warnings Next printed while loading it.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const dir = process.argv[2];
const require = createRequire(join(dir, 'package.json'));
const warnings = [];
console.warn = console.error = (...args) => warnings.push(args.map(String).join(' '));
console.log = console.info = () => {}; // Next's progress events

const { default: loadConfig } = require('next/dist/server/config');
const { PHASE_DEVELOPMENT_SERVER } = require('next/constants');
const config = await loadConfig(PHASE_DEVELOPMENT_SERVER, dir, { silent: false });
process.stdout.write(
  JSON.stringify({
    warnings,
    allowedDevOrigins: config.allowedDevOrigins ?? null,
    skipTrailingSlashRedirect: config.skipTrailingSlashRedirect,
    rewrites: typeof config.rewrites === 'function' ? await config.rewrites() : null,
  }) + '\n',
);
