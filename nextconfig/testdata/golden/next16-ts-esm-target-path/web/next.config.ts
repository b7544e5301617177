// Created by go run ./nextconfig -dir web -target http://sockside:3001; yours to edit: nextconfig never
// overwrites it (delete it to have it created again).
import type { NextConfig } from 'next';
import { withSocketIO } from './with-socket-io';

const nextConfig: NextConfig = {
  /* config options here */
};

// Where Next reaches the sockside server: SOCKET_INTERNAL_URL (in docker, the
// server's service), else the target nextconfig generated. Rewrites are baked
// into the build, so it is read by `next build` (and by `next dev`); an empty
// value counts as unset.
export default withSocketIO(nextConfig, { target: process.env.SOCKET_INTERNAL_URL || undefined });
