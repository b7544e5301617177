// Type test: the event maps registered once type every entry point.
import { getSocket, send, useSocket } from 'sockside/client';
import { createHooksHandler, emit } from 'sockside/server';
import type { SocketEvents } from '../types/maps.js';

declare module 'sockside' {
  interface Register {
    events: SocketEvents;
  }
}

const notes = getSocket('/notes');
// @ts-expect-error: not a registered namespace
getSocket('/chat');
export const added: Promise<unknown> = send(notes, 'note:add', { text: 'x' });
// @ts-expect-error: wrong payload
send(notes, 'note:add', { nope: 1 });
export function C(): null {
  const { socket } = useSocket('/admin');
  socket.on('activity', (what) => void what.toUpperCase());
  return null;
}
export const POST = createHooksHandler({
  namespaces: {
    '/notes': { events: { 'note:add': ({ args: [p] }) => ({ ok: true, id: p.text.length }) } },
  },
});
// @ts-expect-error: not a registered namespace
createHooksHandler({ namespaces: { '/chat': {} } });
export const sent: Promise<void> = emit('/notes', 'count', 3);
// @ts-expect-error: count takes a number
emit('/notes', 'count', '3');
