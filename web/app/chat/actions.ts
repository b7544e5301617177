'use server';

import { announce, type AnnounceResult } from '@/lib/announce';

/** announceToRoom is the chat page's "push from the server" button. */
export async function announceToRoom(room: string, text: string): Promise<AnnounceResult> {
  return announce(room, text);
}
