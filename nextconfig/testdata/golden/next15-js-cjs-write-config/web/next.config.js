'use strict';
const path = require('node:path');
const { withSocketIO } = require('./with-socket-io.cjs');
const withMDX = require('@next/mdx')();

/** @type {import('next').NextConfig} */
const nextConfig = {
  sassOptions: { includePaths: [path.join(__dirname, 'styles')] },
};

module.exports = withSocketIO(withMDX(nextConfig));
