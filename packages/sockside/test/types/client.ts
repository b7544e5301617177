// Type tests of sockside/client (compiled with tsc --noEmit, never run).
import { getSocket, send, useEvent, useRestore, withEvents, type ConnectionStatus } from 'sockside/client';
import type { SocketEvents, Note, NoteAck, ErrorAck } from './maps.js';

const typed = withEvents<SocketEvents>();
const notes = typed.getSocket('/notes');
// @ts-expect-error: not a namespace of the maps
typed.getSocket('/nope');

export async function sends(): Promise<void> {
  const ack: NoteAck | ErrorAck = await send(notes, 'note:add', { text: 'hi' });
  if (ack.ok) ack.id.toFixed();
  // @ts-expect-error: typing takes no ack
  await send(notes, 'typing', { on: true });
  // @ts-expect-error: wrong payload
  await send(notes, 'note:add', { txt: 'hi' });
  // @ts-expect-error: missing payload
  await send(notes, 'note:add');
  const put = await send(notes, 'file:put', 'a.bin', new Uint8Array(2));
  if (put.ok) put.size.toFixed();
}

export function Component(): null {
  const { socket, status } = typed.useSocket('/notes');
  const s: ConnectionStatus = status;
  void s;
  useEvent(socket, 'note:added', (n) => {
    const note: Note = n;
    void note;
  });
  // @ts-expect-error: the server emits no such event
  useEvent(socket, 'note:removed', () => {});
  // @ts-expect-error: wrong listener type
  useEvent(socket, 'count', (n: string) => void n);
  useRestore(socket, () => socket.timeout(1000).emitWithAck('note:add', { text: 'x' }), []);
  return null;
}

// Unregistered: any namespace, any event.
const loose = getSocket('/anything');
loose.emit('whatever', 1, 2, 3);
export const anyAck: Promise<unknown> = send(loose, 'whoami');
