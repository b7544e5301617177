# syntax=docker/dockerfile:1
# The Next.js app (web/) as a standalone server on node:20-slim, non-root.
# Build from the repository root: docker build -f deploy/web.Dockerfile .
# (docker-compose.yml does, with SOCKET_INTERNAL_URL pointing at the load
# balancer.) deploy/web.Dockerfile.dockerignore keeps the context to web/.
#
# SOCKET_INTERNAL_URL is a build argument because Next bakes rewrites into
# the build (.next/routes-manifest.json): the /socket.io/ rewrite goes where
# it pointed at build time. It is also set at run time for the server-side
# fetches (web/lib/sockside.ts).

FROM node:20-slim AS deps
WORKDIR /app
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM node:20-slim AS build
WORKDIR /app
ARG SOCKET_INTERNAL_URL=http://lb:8080
ENV SOCKET_INTERNAL_URL=${SOCKET_INTERNAL_URL} NEXT_TELEMETRY_DISABLED=1
COPY --from=deps /app/node_modules ./node_modules
COPY web/ ./
# web/next.config.ts does not set output: 'standalone' (and no environment
# variable does): wrap it with a config that does. Once web/ sets it, this
# wrapper changes nothing.
RUN mv next.config.ts next.config.base.ts
COPY deploy/next.config.standalone.ts ./next.config.ts
RUN npm run build && mkdir -p public

FROM node:20-slim
WORKDIR /app
ARG SOCKET_INTERNAL_URL=http://lb:8080
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=3000 HOSTNAME=0.0.0.0 \
    SOCKET_INTERNAL_URL=${SOCKET_INTERNAL_URL}
COPY --from=build --chown=node:node /app/.next/standalone ./
COPY --from=build --chown=node:node /app/.next/static ./.next/static
COPY --from=build --chown=node:node /app/public ./public
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/').then(r => process.exit(r.status < 500 ? 0 : 1), () => process.exit(1))"]
CMD ["node", "server.js"]
