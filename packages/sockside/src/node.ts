// toNodeListener serves a fetch-style handler (createHooksHandler's) from
// node:http, or anything built on it (Express, Fastify's raw server, ...).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/**
 * toNodeListener adapts handler to a node:http request listener:
 *
 *   http.createServer(toNodeListener(createHooksHandler({...}))).listen(3000);
 *
 * The URL's host is the request's Host header (only the path matters to the
 * hooks handler).
 */
export function toNodeListener(
  handler: (request: Request) => Promise<Response>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`), {
      method: req.method,
      headers,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
      // @ts-expect-error: Node's fetch needs duplex for a streamed body; the DOM types do not know it.
      duplex: 'half',
    });
    handler(request).then(
      async (response) => {
        res.statusCode = response.status;
        response.headers.forEach((value, name) => res.setHeader(name, value));
        res.end(Buffer.from(await response.arrayBuffer()));
      },
      (err: unknown) => {
        console.error('sockside: handler failed:', err);
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      },
    );
  };
}
