// Small promise helpers around socket.io-client for tests: every wait has a
// deadline, so a missing event fails the test instead of hanging it.
import { io } from "socket.io-client";

export const TRANSPORTS = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
};

export function connect(url, opts = {}) {
  return io(url, { forceNew: true, reconnection: false, timeout: 5000, ...opts });
}

/**
 * Resolves with the first argument of the next `event` on emitter, or rejects
 * after ms. (With connection state recovery on, broadcasts carry the offset
 * as an extra last argument, so only the first one is the payload.)
 */
export function once(emitter, event, ms = 5000) {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => { emitter.off(event, on); rej(new Error(`no "${event}" within ${ms} ms`)); }, ms);
    const on = (arg) => { clearTimeout(timer); res(arg); };
    emitter.once(event, on);
  });
}

/** Resolves once the socket is connected, or rejects with the connect_error. */
export function connected(socket, ms = 5000) {
  return new Promise((res, rej) => {
    if (socket.connected) return res(socket);
    const timer = setTimeout(() => rej(new Error(`not connected within ${ms} ms`)), ms);
    socket.once("connect", () => { clearTimeout(timer); res(socket); });
    socket.once("connect_error", (e) => { clearTimeout(timer); rej(e); });
  });
}

/** Emits with an ack and a deadline. */
export function ask(socket, event, ...args) {
  return socket.timeout(5000).emitWithAck(event, ...args);
}

/** Resolves when the socket's transport has upgraded to websocket. */
export function upgraded(socket, ms = 5000) {
  if (socket.io.engine.transport.name === "websocket") return Promise.resolve();
  return once(socket.io.engine, "upgrade", ms);
}

/** Collects every `event` payload on socket into an array. */
export function collect(socket, event) {
  const got = [];
  socket.on(event, (v) => got.push(v));
  return got;
}

/** Waits until pred() is true, checking on every `event` on emitter. */
export function until(emitter, event, pred, ms = 5000) {
  return new Promise((res, rej) => {
    if (pred()) return res();
    const timer = setTimeout(() => { emitter.off(event, on); rej(new Error(`condition not met within ${ms} ms`)); }, ms);
    const on = () => { if (pred()) { clearTimeout(timer); emitter.off(event, on); res(); } };
    emitter.on(event, on);
  });
}
