'use strict';
const path = require('node:path');
const { withSocketIO } = require('./with-socket-io.cjs');
const withMDX = require('@next/mdx')();

/** @type {import('next').NextConfig} */
const nextConfig = {
  sassOptions: { includePaths: [path.join(__dirname, 'styles')] },
};

// Where Next reaches the sockside server: SOCKET_INTERNAL_URL (in docker, the
// server's service), else the target nextconfig generated. Rewrites are baked
// into the build, so it is read by `next build` (and by `next dev`); an empty
// value counts as unset.
module.exports = withSocketIO(withMDX(nextConfig), { target: process.env.SOCKET_INTERNAL_URL || undefined });
