// Captures what the official socket.io-client 4.8 actually sends (websocket
// frames, as Engine.IO packets) in a session that exercises every client
// shape (CONNECT with auth, events with and without acks, binary
// attachments, namespaces, acks to server emits, disconnects), and writes
// them as Go fuzz seeds:
//   internal/engineio/testdata/fuzz/FuzzEnginePacket/capture-*   one frame each
//   internal/engineio/testdata/fuzz/FuzzEnginePayload/capture-*  the session as polling payloads
//   internal/sio/testdata/fuzz/FuzzSocketDecoder/capture-*       Socket.IO packets with their attachments
// Run from e2e/: SOCKSIDE_BIN=../bin/sockside node tools/capture-fuzz-seeds.mjs
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { startServer } from "../lib/server.mjs";
import { connect, connected, ask } from "../lib/client.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const frames = []; // {text: string} | {binary: Buffer}
// engine.io-client's own copy of ws, the one that carries the traffic.
const require = createRequire(join(root, "e2e/node_modules/engine.io-client/package.json"));
const WebSocket = require("ws");
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data, ...rest) {
  frames.push(typeof data === "string" ? { text: data } : { binary: Buffer.from(data) });
  return send.call(this, data, ...rest);
};

const server = await startServer({ SOCKET_RATE_LIMIT: "0" });
try {
  const root_ = connect(server.url, { transports: ["websocket"], auth: { name: "ann" } });
  const chat = connect(`${server.url}/chat`, { transports: ["websocket"], auth: { token: "not.a.jwt" } });
  await Promise.all([connected(root_), connected(chat)]);
  await ask(root_, "echo", "hello", 1, 2.5, null, true, { nested: { list: [1, [2, [3]]] } });
  await ask(root_, "echo", Buffer.from([1, 2, 3]), { file: Buffer.from("abc"), meta: [Buffer.alloc(0)] });
  await ask(root_, "whoami");
  root_.emit("echo", "no ack");
  await ask(chat, "join", { room: "lobby" });
  await ask(chat, "message", { room: "lobby", text: "hi \u2028 \ud83d\ude00 \"quoted\"" });
  await ask(chat, "input-change", { room: "lobby", value: "typing" });
  await ask(chat, "leave", { room: "lobby" });
  chat.close();
  root_.close();
} finally {
  await server.stop();
}

// Go fuzz corpus encoding: []byte("...") with Go escapes.
const goBytes = (buf) => {
  let s = "";
  for (const b of buf) {
    if (b === 0x22) s += '\\"';
    else if (b === 0x5c) s += "\\\\";
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += "\\x" + b.toString(16).padStart(2, "0");
  }
  return `[]byte("${s}")`;
};
const write = (dir, name, ...lines) => {
  const d = join(root, dir);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, name), ["go test fuzz v1", ...lines, ""].join("\n"));
};

const engineDir = "internal/engineio/testdata/fuzz";
const sioDir = "internal/sio/testdata/fuzz";
let i = 0;
for (const f of frames) {
  const n = String(i++).padStart(2, "0");
  if (f.text !== undefined) write(`${engineDir}/FuzzEnginePacket`, `capture-${n}`, goBytes(Buffer.from(f.text)), "bool(false)");
  else write(`${engineDir}/FuzzEnginePacket`, `capture-${n}`, goBytes(f.binary), "bool(true)");
}
// Polling carries the same packets, binary as "b" + base64, joined by 0x1e.
const asPolling = (f) => (f.text !== undefined ? f.text : "b" + f.binary.toString("base64"));
write(`${engineDir}/FuzzEnginePayload`, "capture-session", goBytes(Buffer.from(frames.map(asPolling).join("\x1e"))));
// Socket.IO packets: each message frame ("4...") and the binary attachments
// after it, in FuzzSocketDecoder's format (0x1e between frames, 0x00 before binary).
let group = [];
let g = 0;
const flush = () => {
  if (group.length) write(`${sioDir}/FuzzSocketDecoder`, `capture-${String(g++).padStart(2, "0")}`, goBytes(Buffer.concat(group)));
  group = [];
};
for (const f of frames) {
  if (f.text !== undefined) {
    if (!f.text.startsWith("4")) continue;
    flush();
    group.push(Buffer.from(f.text.slice(1)));
  } else {
    group.push(Buffer.from([0x1e, 0x00]), f.binary);
  }
}
flush();
console.log(`${frames.length} frames captured, ${g} Socket.IO packets`);
