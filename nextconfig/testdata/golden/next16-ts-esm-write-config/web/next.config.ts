import type { NextConfig } from 'next';
import { withSocketIO } from './with-socket-io';

const nextConfig: NextConfig = {
  reactStrictMode: true,
  async rewrites() {
    return {
      beforeFiles: [{ source: '/docs/:path*', destination: 'https://docs.example.com/:path*' }],
      afterFiles: [{ source: '/old-blog/:slug', destination: '/blog/:slug' }],
      fallback: [],
    };
  },
};

export default withSocketIO(nextConfig);
