// Type tests of sockside/server (compiled with tsc --noEmit, never run).
import { createEmitter, createHooksHandler, emit, HookError, type HooksHandler } from 'sockside/server';
import type { SocketEvents } from './maps.js';

interface Data {
  plan: string;
}

export const POST: HooksHandler = createHooksHandler<SocketEvents, Data>({
  namespaces: {
    '/notes': {
      async connect({ request, cookies, accept, refuse, handshake }) {
        const session = cookies.session ?? request.headers.get('cookie');
        if (!session) return refuse('not signed in', { code: 401 });
        void handshake.auth;
        accept({ user: { id: 'u1', name: 'Ada' }, data: { plan: 'pro' }, join: ['team'], relay: ['typing'] });
        // @ts-expect-error: not a client event of /notes
        accept({ relay: ['nope'] });
        // @ts-expect-error: data has Data's type
        accept({ data: { plan: 1 } });
      },
      events: {
        'note:add': ({ args: [payload], ack, emit, join, socket, setData }) => {
          const text: string = payload.text;
          const plan: string = socket.data.plan;
          void plan;
          join(['board']);
          emit('note:added', [{ id: 1, text }], { to: 'board', except: socket.sid });
          emit('count', [3]);
          emit('activity', ['note'], { namespace: '/admin' });
          // @ts-expect-error: /notes emits no activity
          emit('activity', ['note']);
          // @ts-expect-error: count takes a number
          emit('count', ['3']);
          // @ts-expect-error: /admin emits no count
          emit('count', [3], { namespace: '/admin' });
          setData({ plan: 'free' });
          if (text === '') throw new HookError('text is required');
          if (text === 'a') return ack({ ok: true, id: 1 });
          // @ts-expect-error: not the ack's type
          ack({ ok: true });
          return { ok: false, error: 'x' };
        },
        typing: ({ args }) => {
          const on: boolean = args[0].on;
          void on;
        },
        'file:put': ({ args: [name, bytes] }) => ({ ok: true, size: bytes.byteLength + name.length }),
        // Without an ack callback in the map: any ack.
        echo: ({ args, ack }) => ack(...args),
      },
      disconnect({ reason, socket }) {
        void reason;
        void socket.rooms;
      },
    },
    // @ts-expect-error: not a namespace of the maps
    '/nope': {},
  },
});

createHooksHandler<SocketEvents>({
  namespaces: {
    '/notes': {
      events: {
        // @ts-expect-error: the returned value is not the ack's type
        'note:add': async () => ({ wrong: true }),
      },
    },
  },
});

// As a Next route handler and as a plain fetch handler.
export const asRoute: (req: Request, ctx: { params: Promise<{ hook: string }> }) => Promise<Response> = POST;
export const asFetch: (req: Request) => Promise<Response> = POST;

const typedEmit = createEmitter<SocketEvents>();
export async function emits(): Promise<void> {
  await typedEmit('/notes', 'note:added', { id: 1, text: 'x' }, { room: 'board' });
  await typedEmit('/notes', 'ping', undefined);
  // @ts-expect-error: wrong data
  await typedEmit('/notes', 'note:added', { id: '1' });
  // @ts-expect-error: not an event of /admin
  await typedEmit('/admin', 'note:added', { id: 1, text: 'x' });
  // @ts-expect-error: the API carries one value: an event of two arguments cannot be sent
  await typedEmit('/notes', 'pair', 'a');
  // Unregistered: anything goes.
  await emit('/x', 'y', { z: 1 });
}
