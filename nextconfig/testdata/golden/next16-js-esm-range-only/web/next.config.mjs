// Created by go run ./nextconfig -dir web; yours to edit: nextconfig never
// overwrites it (delete it to have it created again).
import { withSocketIO } from './with-socket-io.mjs';

/** @type {import('next').NextConfig} */
const nextConfig = {};

export default withSocketIO(nextConfig);
