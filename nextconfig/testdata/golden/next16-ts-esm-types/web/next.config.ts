// Created by go run ./nextconfig -dir web -types lib/socket-events.ts; yours to edit: nextconfig never
// overwrites it (delete it to have it created again).
import type { NextConfig } from 'next';
import { withSocketIO } from './with-socket-io';

const nextConfig: NextConfig = {};

export default withSocketIO(nextConfig);
