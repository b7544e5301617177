import type { Metadata } from 'next';
import { Status } from './Status';

export const metadata: Metadata = { title: 'Status · sockside demo' };

export default function StatusPage() {
  return <Status />;
}
