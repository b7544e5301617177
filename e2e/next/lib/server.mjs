// The real sockside binary on a free port, with the server's defaults (the
// ping settings Next's proxy timeout is measured against). bin may also be
// another program built on sockside (examples/embed), which logs through
// Go's default logger rather than the command's slog text handler.
import { cleanEnv, start } from "./proc.mjs";
import { here } from "./cache.mjs";

export async function startServer(bin, env = {}, { name = "sockside" } = {}) {
  const proc = start(bin, [], {
    cwd: here, // no .env here
    env: cleanEnv({ SOCKET_HOST: "127.0.0.1", SOCKET_PORT: "0", SOCKET_DEMO: "on", LOG_LEVEL: "info", ...env }),
    name,
  });
  const m = await proc.waitFor(/sockside listening"? addr=(\S+)/, 30_000, "its listening address");
  return { addr: m[1], url: `http://${m[1]}`, proc, stop: () => proc.stop() };
}
