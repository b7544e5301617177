// socket.io-client, ws and plain HTTP helpers with deadlines: a missing event
// fails the test instead of hanging it.
import { request } from "node:http";
import { io } from "socket.io-client";
import WebSocket from "ws";

export const TRANSPORTS = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"], // the client's default
};

export function connect(url, transports, opts = {}) {
  return io(url, { transports, forceNew: true, reconnection: false, timeout: 20_000, ...opts });
}

/** Resolves once the socket is connected; rejects with the connect_error. */
export function connected(socket, ms = 30_000) {
  return new Promise((res, rej) => {
    if (socket.connected) return res(socket);
    const timer = setTimeout(() => rej(new Error(`not connected within ${ms} ms`)), ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      res(socket);
    });
    socket.once("connect_error", (e) => {
      clearTimeout(timer);
      rej(e);
    });
  });
}

/** Emits event with args and resolves with every argument of the ack. */
export function ack(socket, ms, event, ...args) {
  return new Promise((res, rej) => {
    socket.timeout(ms).emit(event, ...args, (err, ...got) => (err ? rej(new Error(`no ack for ${event} within ${ms} ms`)) : res(got)));
  });
}

/** Resolves with the first argument of the next `event`, or rejects after ms. */
export function once(emitter, event, ms) {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      rej(new Error(`no "${event}" within ${ms} ms`));
    }, ms);
    const on = (arg) => {
      clearTimeout(timer);
      res(arg);
    };
    emitter.once(event, on);
  });
}

/** Resolves when the engine has upgraded to websocket. */
export function upgraded(socket, ms = 20_000) {
  if (socket.io.engine.transport.name === "websocket") return Promise.resolve();
  return once(socket.io.engine, "upgrade", ms);
}

/**
 * GET path from Next with exact headers (Host included; fetch would not let
 * it be set) and no redirect following.
 */
export function get(url, headers = {}, ms = 120_000) {
  const u = new URL(url);
  return new Promise((res, rej) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: "GET", headers: { host: u.host, ...headers } },
      (r) => {
        const chunks = [];
        r.on("data", (c) => chunks.push(c));
        r.on("end", () => res({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks).toString() }));
        r.on("error", rej);
      },
    );
    req.setTimeout(ms, () => req.destroy(new Error(`GET ${url}: no answer within ${ms} ms`)));
    req.on("error", rej);
    req.end();
  });
}

/**
 * Opens a WebSocket to url with the browser's Origin and resolves with the
 * first message; rejects on an error, an unexpected response or after ms.
 */
export function wsFirstMessage(url, origin, ms) {
  return new Promise((res, rej) => {
    const ws = new WebSocket(url, { headers: { Origin: origin } });
    let opened = false;
    const timer = setTimeout(() => done(new Error(`${url}: ${opened ? "open but no message" : "not open"} within ${ms} ms`)), ms);
    const done = (err, msg) => {
      clearTimeout(timer);
      ws.terminate();
      err ? rej(err) : res({ opened, message: msg });
    };
    ws.on("open", () => (opened = true));
    ws.on("message", (data) => done(null, String(data)));
    ws.on("unexpected-response", (_req, r) => done(new Error(`${url}: HTTP ${r.statusCode} instead of an upgrade`)));
    ws.on("error", (e) => done(e));
    ws.on("close", (code) => done(new Error(`${url}: closed (${code}) before a message`)));
  });
}
