import type { Metadata } from 'next';
import { Echo } from './Echo';

export const metadata: Metadata = { title: 'Echo · sockside demo' };

export default function EchoPage() {
  return <Echo />;
}
