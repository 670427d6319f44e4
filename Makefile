# Parley's two everyday commands are `make run` and `make test`; the rest are
# the small steps they are built from. Everything here must work on a fresh
# Debian machine with Go installed (scripts/test.sh installs the rest).

GO      ?= go
BIN     := bin/parley
# Directories holding Go source, for gofmt (bench/ appears later).
GODIRS  := $(wildcard cmd internal bench)
# The package.json of the TypeScript islands, when there are any; without it
# the embedded placeholder keeps `go build` working without Node.
ISLANDS := internal/web/islands/package.json

SHELL       := /bin/bash
.SHELLFLAGS := -euo pipefail -c

.DEFAULT_GOAL := build
.PHONY: build run test bench vet fmt clean islands

## build: compile the islands (if any) and every package, then bin/parley.
build: islands
	$(GO) build ./...
	$(GO) build -o $(BIN) ./cmd/parley

## run: build and serve Parley on SQLite in ./data with nothing to configure.
run: build
	./$(BIN) serve

## test: the whole suite on SQLite and a throwaway PostgreSQL, as CI runs it
## (PKGS=./internal/web/... narrows it while you work).
test:
	bash scripts/test.sh $(PKGS)

## bench: benchmarks, printed as `BENCH <name> <value> <unit>` lines.
# Go benchmarks run a fixed iteration count so runs are comparable; every
# metric of a benchmark line (ns/op, B/op, custom ones) becomes a BENCH line.
# PostgreSQL figures need the throwaway server, started when it is installed.
# The timeout leaves room for the first run, which generates the cached data
# sets of the inbox and search benchmarks (two million contacts: minutes).
# -p 1: one package's benchmarks at a time; by default two ran at once on
# the two cores and measured each other (contact search p99 13 → 380 ms).
bench:
	@if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then eval "$$(bash scripts/postgres.sh start)"; fi; \
	$(GO) test -p 1 -run '^$$' -bench . -benchtime 2000x -timeout 45m ./internal/... | tee /dev/stderr | \
		awk '/^Benchmark/ { name = $$1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$$/, "", name); \
			for (i = 3; i + 1 <= NF; i += 2) printf "BENCH %s %s %s\n", name, $$i, $$(i+1) }'; \
	if compgen -G 'bench/*.go' >/dev/null; then $(GO) run ./bench; fi

## vet: go vet on every package.
vet:
	$(GO) vet ./...

## fmt: gofmt every Go file in place.
fmt:
	gofmt -s -l -w $(GODIRS)

## clean: remove build output (never ./data: it holds your database and key).
clean:
	rm -rf bin

## islands: build the dashboard's TypeScript islands (the flow editor).
## Without npm the embedded placeholder stands in (the editor page says
## how to build it) so `make run` still works; `make test` installs npm.
islands:
	@if [ -f $(ISLANDS) ] && ! command -v npm >/dev/null 2>&1; then \
		echo "islands: npm not found: the flow editor is not built (install Node.js and npm, then run make islands)" >&2; \
	elif [ -f $(ISLANDS) ]; then \
		cd $(dir $(ISLANDS)) && \
		if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi && \
		npm run build; \
	fi
