import type { Metadata } from 'next';
import Link from 'next/link';
import './globals.css';

export const metadata: Metadata = {
  title: 'sockside demo',
  description: 'Socket.IO from a Go server, same-origin through Next.js rewrites',
};

const pages = [
  ['/chat', 'Chat'],
  ['/feed', 'Feed'],
  ['/notes', 'Notes'],
  ['/echo', 'Echo'],
  ['/status', 'Status'],
  ['/signin', 'Sign in'],
] as const;

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="top">
          <Link href="/" className="brand">
            sockside
          </Link>
          <nav>
            {pages.map(([href, label]) => (
              <Link key={href} href={href}>
                {label}
              </Link>
            ))}
          </nav>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
