// POST /api/sockside/{connect,event,disconnect}: the hooks of /notes, a
// namespace whose logic lives here instead of in Go (docs/hooks.md). Off
// unless the server has SOCKET_HOOKS_URL=http://127.0.0.1:3000/api/sockside
// and both have the same SOCKET_HOOKS_SECRET (32 bytes or more); the
// package's createHooksHandler checks every request's signature, time and
// uniqueness before a handler runs.
import { randomUUID } from 'node:crypto';
import { createHooksHandler, HookError } from 'sockside/server';
import { currentUser } from '@/lib/auth';
import type { NotesEvents } from '@/lib/notes-events';

export const POST = createHooksHandler<NotesEvents>({
  namespaces: {
    '/notes': {
      async connect({ accept, refuse }) {
        // The server forwards the browser's Cookie header with the connect
        // hook, so cookies() (next/headers) reads the sign-in cookie here as
        // in any route handler.
        const user = await currentUser();
        if (user === null) return refuse('sign in first');
        accept({ ...(user && { user: { id: user.sub, name: user.name } }), join: ['board'], relay: ['typing'] });
      },
      events: {
        'note:add'({ args: [note], socket, emit }) {
          const text = typeof note?.text === 'string' ? note.text.trim() : '';
          if (!text || [...text].length > 500) throw new HookError('text must be 1-500 characters');
          const added = { id: `note-${randomUUID()}`, text, from: socket.user.name ?? socket.user.id, ts: Date.now() };
          emit('note:added', [added], { to: 'board' });
          return { ok: true, id: added.id };
        },
      },
    },
  },
});
