# syntax=docker/dockerfile:1
# The sockside server: a static Go binary on distroless, non-root.
# Build from the repository root: docker build -f deploy/server.Dockerfile .
# (docker-compose.yml does.) deploy/server.Dockerfile.dockerignore keeps the
# context to the Go sources.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags="-s -w" -o /out/sockside ./server \
 && go build -trimpath -ldflags="-s -w" -o /out/healthcheck ./deploy/healthcheck

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sockside /out/healthcheck /
USER nonroot:nonroot
# Listen on every interface inside the container; the rest comes from the
# environment (docker-compose.yml: env_file .env plus the cluster settings).
ENV SOCKET_HOST=0.0.0.0 SOCKET_PORT=3001
EXPOSE 3001
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 CMD ["/healthcheck", "http://127.0.0.1:3001/readyz"]
# SIGTERM drains (readyz answers 503, clients move) for up to SOCKET_DRAIN_TIMEOUT.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/sockside"]
