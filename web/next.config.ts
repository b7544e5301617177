// Created by go run ./nextconfig -dir web; yours to edit: nextconfig never
// overwrites it (delete it to have it created again).
import type { NextConfig } from 'next';
import { withSocketIO } from './with-socket-io';

// Where Next reaches the sockside server. Rewrites are baked into the build
// (.next/routes-manifest.json), so this is read by `next build` (and by
// `next dev`); server-side fetches (lib/sockside.ts) read it at run time.
const target = process.env.SOCKET_INTERNAL_URL || undefined;

const nextConfig: NextConfig = {
  reactStrictMode: true,
  // withSocketIO adds 127.0.0.1 and localhost to allowedDevOrigins: next dev
  // serves its own resources (HMR, /_next/) only to the hosts listed there.
  async rewrites() {
    // The plain-WebSocket demo (/echo) reaches the server's /ws same-origin.
    // Next's proxy carries the upgrade for an external rewrite like this one.
    return [{ source: '/ws', destination: `${(target ?? 'http://127.0.0.1:3001').replace(/\/+$/, '')}/ws` }];
  },
};

export default withSocketIO(nextConfig, { target });
