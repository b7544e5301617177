// Created by go run ./nextconfig -dir web; yours to edit: nextconfig never
// overwrites it (delete it to have it created again).
import type { NextConfig } from 'next';
import { withSocketIO } from './with-socket-io';

const nextConfig: NextConfig = {
  // next dev serves its own resources (HMR, /_next/) only to the hosts listed
  // here: without 127.0.0.1, the page opened at http://127.0.0.1:3000 never
  // hydrates and never connects.
  allowedDevOrigins: ['127.0.0.1', 'localhost'],
};

// Where Next reaches the sockside server: SOCKET_INTERNAL_URL (in docker, the
// server's service), else the target nextconfig generated. Rewrites are baked
// into the build, so it is read by `next build` (and by `next dev`); an empty
// value counts as unset.
export default withSocketIO(nextConfig, { target: process.env.SOCKET_INTERNAL_URL || undefined });
