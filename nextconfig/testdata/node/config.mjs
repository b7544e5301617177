// Loads a rendered next.config (the ES module in argv[2]) as Next does and
// prints what nextconfig put in it as JSON: allowedDevOrigins and the
// rewrites, whose target SOCKET_INTERNAL_URL may set.
import { pathToFileURL } from 'node:url';

const { default: config } = await import(pathToFileURL(process.argv[2]).href);
console.log(JSON.stringify({ allowedDevOrigins: config.allowedDevOrigins ?? null, rewrites: await config.rewrites() }));
