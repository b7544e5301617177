import type { Metadata } from 'next';
import { Feed } from './Feed';

export const metadata: Metadata = { title: 'Feed · sockside demo' };

export default function FeedPage() {
  return <Feed />;
}
