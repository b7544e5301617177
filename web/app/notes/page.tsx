import type { Metadata } from 'next';
import { currentUser } from '@/lib/auth';
import { Notes } from './Notes';

export const metadata: Metadata = { title: 'Notes · sockside demo' };
// Reads the session on each request.
export const dynamic = 'force-dynamic';

export default async function NotesPage() {
  const user = await currentUser();
  return <Notes signedInAs={user === undefined ? undefined : (user?.name ?? null)} />;
}
