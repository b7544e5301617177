# sockside: every set-up step is a prerequisite here, so `make dev` and
# `make test` work on a fresh machine with Go and Node installed.
SHELL := /bin/bash
BIN   := $(CURDIR)/bin/sockside

.PHONY: dev server test test-go test-e2e fmt vet bin

## dev: run the server (and the demo app through Next's rewrite, once web/ exists)
dev: bin
	@if [ -f web/package.json ]; then \
	  $(MAKE) --no-print-directory web/node_modules; \
	  trap 'kill 0' EXIT; $(BIN) & (cd web && npm run dev); \
	else \
	  exec $(BIN); \
	fi

## server: run only the Go server
server: bin
	exec $(BIN)

bin:
	go build -o $(BIN) ./server

e2e/node_modules: e2e/package-lock.json
	cd e2e && npm ci --no-audit --no-fund
	@touch $@

web/node_modules: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

## test: everything CI runs
test: test-go test-e2e

test-go:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go test -race -count=1 -timeout 15m ./...

test-e2e: bin e2e/node_modules
	cd e2e && SOCKSIDE_BIN=$(BIN) npm test
