'use server';

import { currentUser } from '@/lib/auth';
import { addNote, emitNotes, maxNoteLength, validNote } from '@/lib/notes';

export type PinResult = { ok: true } | { ok: false; error: string };

/**
 * pinNote is the board's "pin from the server" form: a server action that
 * adds a note and pushes it to every /notes socket through the emit API.
 */
export async function pinNote(text: string): Promise<PinResult> {
  const user = await currentUser();
  if (user === null) return { ok: false, error: 'sign in first' };
  const valid = validNote(text);
  if (!valid) return { ok: false, error: `text must be 1-${maxNoteLength} characters` };
  const note = addNote(valid, `server (for ${user?.name ?? 'a guest'})`);
  try {
    await emitNotes('/notes', 'note:added', note);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
