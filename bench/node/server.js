// The Node socket.io reference server for the bench: the same "/" echo and
// "/chat" join/leave/message semantics as sockside (see docs/protocol.md's
// protocol table), so the same load generator drives both.
//
// Environment: HOST (127.0.0.1), PORT (0 = a free one), PING_INTERVAL_MS
// (25000), PING_TIMEOUT_MS (20000). Prints "listening HOST:PORT" on stdout.
'use strict';
const http = require('node:http');
const { Server } = require('socket.io');

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 0);
const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: Number(process.env.PING_INTERVAL_MS || 25000),
  pingTimeout: Number(process.env.PING_TIMEOUT_MS || 20000),
  maxHttpBufferSize: 1e6,
  serveClient: false,
});

io.of('/').on('connection', (socket) => {
  socket.on('echo', (...args) => {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    if (ack) ack(...args);
  });
  socket.on('whoami', (...args) => {
    const ack = args.pop();
    if (typeof ack === 'function') {
      ack({ id: socket.id, transport: socket.conn.transport.name, recovered: socket.recovered, user: socket.id });
    }
  });
});

const chat = io.of('/chat');
const node = Date.now().toString(36);
let seq = 0;
const key = (room) => 'chat:' + room;
const validRoom = (room) => typeof room === 'string' && room.length >= 1 && room.length <= 64;
const members = (room) => chat.adapter.rooms.get(key(room))?.size ?? 0;
const fail = (ack, error) => typeof ack === 'function' && ack({ ok: false, error });
const presence = (socket, room, event) =>
  chat.to(key(room)).emit('presence', { room, id: socket.id, user: socket.id, event, members: members(room) });

chat.on('connection', (socket) => {
  socket.on('join', (req, ack) => {
    const room = req && req.room;
    if (!validRoom(room)) return fail(ack, 'room must be 1-64 characters');
    const already = socket.rooms.has(key(room));
    socket.join(key(room));
    if (!already) presence(socket, room, 'join');
    if (typeof ack === 'function') ack({ ok: true, room, members: members(room) });
  });
  socket.on('leave', (req, ack) => {
    const room = req && req.room;
    if (!validRoom(room) || !socket.rooms.has(key(room))) return fail(ack, 'join the room first');
    socket.leave(key(room));
    presence(socket, room, 'leave');
    if (typeof ack === 'function') ack({ ok: true, room, members: members(room) });
  });
  socket.on('message', (req, ack) => {
    const room = req && req.room;
    const text = req && req.text;
    if (!validRoom(room) || !socket.rooms.has(key(room))) return fail(ack, 'join the room first');
    if (typeof text !== 'string' || text.length < 1 || text.length > 4096 || text.trim() === '') {
      return fail(ack, 'text must be 1-4096 characters');
    }
    const m = { id: node + '-' + (++seq).toString(36), room, from: socket.id, text, ts: Date.now() };
    chat.to(key(room)).emit('message', m);
    if (typeof ack === 'function') ack({ ok: true, id: m.id });
  });
  socket.on('disconnecting', () => {
    for (const r of socket.rooms) {
      if (r.startsWith('chat:')) {
        const room = r.slice(5);
        // The socket is still in the room while disconnecting: count it out.
        chat.to(r).except(socket.id).emit('presence', { room, id: socket.id, user: socket.id, event: 'leave', members: members(room) - 1 });
      }
    }
  });
});

httpServer.listen(port, host, () => {
  const a = httpServer.address();
  process.stdout.write(`listening ${a.address}:${a.port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    io.close();
    process.exit(0);
  });
}
