# sockside: every set-up step is a prerequisite here, so `make dev` and
# `make test` work on a fresh machine with Go and Node installed.
SHELL := /bin/bash
BIN   := $(CURDIR)/bin/sockside

.PHONY: dev server test test-go test-e2e check generate bin

## dev: run the server with the demo namespaces and the demo app (next dev) through Next's rewrite,
## with the hooks of /notes pointed at it (a fresh SOCKET_HOOKS_SECRET for both unless set)
dev: bin web/node_modules
	@echo "sockside demo: open http://localhost:3000 (or http://127.0.0.1:3000) once Next says Ready"
	@trap 'kill 0' EXIT; \
	  export SOCKET_HOOKS_SECRET=$${SOCKET_HOOKS_SECRET:-$$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')}; \
	  SOCKET_DEMO=$${SOCKET_DEMO:-on} SOCKET_HOOKS_URL=$${SOCKET_HOOKS_URL:-http://127.0.0.1:3000/api/sockside} $(BIN) & \
	  (cd web && npm run dev)

## server: run only the Go server (SOCKET_DEMO=on for the demo namespaces)
server: bin
	exec $(BIN)

bin:
	go build -o $(BIN) ./server

e2e/node_modules: e2e/package-lock.json
	cd e2e && npm ci --no-audit --no-fund
	@touch $@

# web/ installs packages/sockside as a packed copy (web/.npmrc: install-links),
# built by the package's prepare: reinstalled when the package changes.
SDK_SOURCES := packages/sockside/package.json packages/sockside/package-lock.json packages/sockside/tsconfig.json $(wildcard packages/sockside/src/*.ts)

web/node_modules: web/package-lock.json $(SDK_SOURCES)
	cd web && npm ci --no-audit --no-fund
	@touch $@

## test: everything CI runs
test: test-go test-e2e test-suites test-sdk test-web test-next fuzz-short

# The generated files make test checks; `make generate` rewrites them.
lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go run ./nextconfig -dir web -types lib/socket-events.ts -check || { echo "generated files are out of date: run make generate" >&2; exit 1; }

test-go: lint
	go test -race -count=1 -timeout 15m ./...

## check: the contributors' fast loop: gofmt, vet, generated files, unit tests (no Redis, e2e or Next matrix)
check: lint
	go test -short -count=1 -timeout 5m ./...

## generate: after adding or changing a namespace, rewrite what make test checks: the demo's
## TypeScript event map (web/lib/socket-events.ts) and the generator goldens
generate:
	go run ./nextconfig -dir web -types lib/socket-events.ts
	go test ./internal/tsgen ./nextconfig -run 'Golden' -count=1 -update

## embed-bin: examples/embed, a module of its own that imports sockside (e2e/tests/embed.test.mjs drives it)
.PHONY: embed-bin lint
embed-bin:
	cd examples/embed && go vet ./... && go build -o $(CURDIR)/bin/embed-example .

test-e2e: bin embed-bin e2e/node_modules
	cd e2e && SOCKSIDE_BIN=$(BIN) SOCKSIDE_EMBED_BIN=$(CURDIR)/bin/embed-example npm test

## test-suites: the official Engine.IO v4 and Socket.IO v5 test suites (e2e/suites, copied from
## socketio/socket.io) against the conformance fixture: the app stack and internal/socketio alone
.PHONY: test-suites
test-suites: e2e/suites/node_modules
	cd e2e/suites && node run.mjs

e2e/suites/node_modules: e2e/suites/package-lock.json
	cd e2e/suites && npm ci --no-audit --no-fund
	@touch $@

## test-sdk: install, build and test the npm package (packages/sockside) against the real server:
## the client layer, the hooks handler (signature vector, end to end), emit, npm pack
## (after web's install, which builds the package too, so never both at once under make -j)
.PHONY: test-sdk
test-sdk: bin web/node_modules
	cd packages/sockside && npm ci --no-audit --no-fund && SOCKSIDE_BIN=$(BIN) npm test

## test-web: type-check web/, unit-test its client layer, build it once, and drive it in Chromium against the real server
.PHONY: test-web chromium
test-web: bin web/node_modules e2e/browser/node_modules chromium
	cd web && ./node_modules/.bin/tsc --noEmit
	cd web && SOCKSIDE_BIN=$(BIN) npm run --silent test:unit
	cd e2e/browser && SOCKSIDE_BIN=$(BIN) node run.mjs

e2e/browser/node_modules: e2e/browser/package-lock.json
	cd e2e/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	@touch $@

# Debian's Chromium for the browser tests (never a downloaded browser).
chromium:
	@test -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## test-next: nextconfig's wiring in real Next 16/15/14 apps (next dev, next start, standalone)
## through to the real server with the official socket.io-client (e2e/next); the quick start's
## step 5 installs packages/sockside, whose dist/ web's install builds
.PHONY: test-next
test-next: bin embed-bin e2e/next/node_modules web/node_modules
	go build -o $(CURDIR)/bin/nextconfig ./nextconfig
	cd e2e/next && SOCKSIDE_BIN=$(BIN) NEXTCONFIG_BIN=$(CURDIR)/bin/nextconfig SOCKSIDE_EMBED_BIN=$(CURDIR)/bin/embed-example npm test

e2e/next/node_modules: e2e/next/package-lock.json
	cd e2e/next && npm ci --no-audit --no-fund
	@touch $@

## bench-quick: a short run of the load generator against sockside and Node socket.io (bench/results/quick)
.PHONY: bench-quick
bench-quick:
	go run ./bench -quick

## fuzz-short: every fuzz target for FUZZTIME each (20s; e.g. FUZZTIME=30m for the long run); a failure leaves its input in the package's testdata/fuzz
FUZZTIME ?= 20s
FUZZ_TARGETS := \
	./internal/engine:FuzzDecodePayload \
	./internal/socketio:FuzzDecoder \
	./internal/plainws:FuzzHandle \
	./internal/emitapi:FuzzDecode \
	./config:FuzzLoad
.PHONY: fuzz-short
fuzz-short:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "== $$fn ($$pkg, $(FUZZTIME))"; \
	  go test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; \
	done
