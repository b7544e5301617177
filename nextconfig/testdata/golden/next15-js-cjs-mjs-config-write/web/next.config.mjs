import { withSocketIO } from './with-socket-io.mjs';

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
};

export default withSocketIO(nextConfig);
