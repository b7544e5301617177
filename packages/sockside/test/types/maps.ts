// Event maps in the shape nextconfig -types generates, for the type tests.
export interface ErrorAck {
  ok: false;
  error: string;
}
export interface Note {
  id: number;
  text: string;
}
export interface NoteAck {
  ok: true;
  id: number;
}
export interface NotesServerToClientEvents {
  'note:added': (note: Note) => void;
  count: (n: number) => void;
  ping: () => void;
  pair: (a: string, b: number) => void;
}
export interface NotesClientToServerEvents {
  'note:add': (payload: { text: string }, ack: (res: NoteAck | ErrorAck) => void) => void;
  typing: (payload: { on: boolean }) => void;
  'file:put': (name: string, bytes: Uint8Array, ack: (res: { ok: true; size: number } | ErrorAck) => void) => void;
  echo: (...args: any[]) => void;
}
export interface AdminServerToClientEvents {
  activity: (what: string) => void;
}
export interface AdminClientToServerEvents {}
export interface SocketEvents {
  '/notes': { serverToClient: NotesServerToClientEvents; clientToServer: NotesClientToServerEvents };
  '/admin': { serverToClient: AdminServerToClientEvents; clientToServer: AdminClientToServerEvents };
}
