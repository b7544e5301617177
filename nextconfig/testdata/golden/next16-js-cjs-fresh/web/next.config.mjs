// Created by go run ./nextconfig -dir web; yours to edit: nextconfig never
// overwrites it (delete it to have it created again).
import { withSocketIO } from './with-socket-io.mjs';

/** @type {import('next').NextConfig} */
const nextConfig = {
  /* config options here */
};

// Where Next reaches the sockside server: SOCKET_INTERNAL_URL (in docker, the
// server's service), else the target nextconfig generated. Rewrites are baked
// into the build, so it is read by `next build` (and by `next dev`); an empty
// value counts as unset.
export default withSocketIO(nextConfig, { target: process.env.SOCKET_INTERNAL_URL || undefined });
