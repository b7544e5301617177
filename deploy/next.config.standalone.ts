// The image build's next.config.ts (deploy/web.Dockerfile): the app's own
// config, moved to next.config.base.ts, with standalone output. Not used
// outside the image build.
import type { NextConfig } from 'next';
import base from './next.config.base';

type ConfigFunction = (phase: string, ctx: { defaultConfig: NextConfig }) => NextConfig | Promise<NextConfig>;

const standalone = (c: NextConfig): NextConfig => ({ ...c, output: 'standalone' });

const config: NextConfig | ConfigFunction =
  typeof base === 'function'
    ? async (phase: string, ctx: { defaultConfig: NextConfig }) => standalone(await (base as ConfigFunction)(phase, ctx))
    : standalone(base);

export default config;
