// Server-only: the /notes board, kept by the app (the Go server only carries
// the events). The hooks route handler and the server action both add to it;
// it lives on globalThis because Next bundles route handlers and server
// actions separately, and both must see one board per Next server.
import { randomUUID } from 'node:crypto';
import { createEmitter } from 'sockside/server';
import type { Note, NotesEvents } from './notes-events';

/** The most notes kept; older ones drop off. */
export const maxNotes = 100;
/** The longest note, in characters. */
export const maxNoteLength = 500;

const board = ((globalThis as { socksideNotes?: Note[] }).socksideNotes ??= []);

/** validNote trims a note's text, or returns null when it is empty or too long. */
export function validNote(raw: unknown): string | null {
  const text = typeof raw === 'string' ? raw.trim() : '';
  return text && [...text].length <= maxNoteLength ? text : null;
}

/** addNote puts a note on the board and returns it. */
export function addNote(text: string, from: string): Note {
  const note = { id: `note-${randomUUID()}`, text, from, ts: Date.now() };
  board.push(note);
  if (board.length > maxNotes) board.splice(0, board.length - maxNotes);
  return note;
}

/** listNotes is the board, oldest first. */
export function listNotes(): Note[] {
  return [...board];
}

/** emitNotes pushes /notes events from the back end (server actions) through the emit API. */
export const emitNotes = createEmitter<NotesEvents>();
