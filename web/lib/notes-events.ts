// The event maps of /notes, the demo's hook namespace (app/api/sockside):
// written by hand, in the shape nextconfig -types generates for the Go
// namespaces (a hook namespace has no Go declarations to generate from).
import type { ErrorAck } from './socket-events';

export interface Note {
  id: string;
  text: string;
  from: string;
  ts: number;
}

export interface NotesEvents {
  '/notes': {
    serverToClient: {
      'note:added': (note: Note) => void;
      /** Someone's socket left the board, with Socket.IO's reason (from the disconnect hook). */
      'note:left': (left: { from: string; reason: string }) => void;
      /** Relayed by the server as the client sent it, never through the app. */
      typing: (state: { typing: boolean }) => void;
    };
    clientToServer: {
      'note:add': (note: { text: string }, ack: (res: { ok: true; id: string } | ErrorAck) => void) => void;
      /** The board so far, oldest first (the app keeps it). */
      'note:list': (ack: (notes: Note[]) => void) => void;
      typing: (state: { typing: boolean }) => void;
    };
  };
}
