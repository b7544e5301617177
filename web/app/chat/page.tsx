import type { Metadata } from 'next';
import { currentUser } from '@/lib/auth';
import { Chat } from './Chat';

export const metadata: Metadata = { title: 'Chat · sockside demo' };
// Reads the auth cookie and the server's environment on each request.
export const dynamic = 'force-dynamic';

export default async function ChatPage() {
  const user = await currentUser();
  return (
    <Chat
      auth={user === undefined ? { mode: 'off' } : { mode: 'on', name: user?.name ?? null }}
      emitEnabled={Boolean(process.env.SOCKET_EMIT_SECRET)}
    />
  );
}
