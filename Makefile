# TrialChain. Needs only Go (the version in go.mod; the toolchain is fetched
# by the go command if older). Everything else is built here.

GO      ?= go
BIN     := bin/trialchain
WASM    := bin/contracts
FUZZTIME ?= 10s
FUZZMINIMIZE ?= 200x

# Race detector on the concurrent core; the VM and the domain packages run
# without it (wazero's compiled code is not instrumented and is slow under it).
# chain/proof/bundle is pure computation (offline verification of large
# bundles): under the race detector it is 5-10x slower for nothing; it runs
# plainly, and its parallel encode/decode/verify run under -race by name.
RACE_PKGS  := $(shell $(GO) list ./chain/... ./transport/... | grep -v '/chain/proof/bundle$$')
PLAIN_PKGS := ./vm/... ./sdk/... ./cmd/... ./chain/proof/bundle $(shell test -d trials && echo ./trials/...)

.PHONY: all build contracts test test-race test-plain test-limits demo bench fuzz vet clean e2e soak

all: build

build:
	$(GO) build -o $(BIN) ./cmd/trialchain

# Every contract under contracts-examples/ to bin/contracts/NAME.wasm and
# every test contract under vm/testdata/ to bin/contracts/testdata/NAME.wasm.
contracts:
	@mkdir -p $(WASM)/testdata
	@for d in contracts-examples/*/ vm/testdata/*/; do \
		[ -f "$$d/main.go" ] || continue; \
		case $$d in vm/*) out=$(WASM)/testdata/$$(basename $$d).wasm;; *) out=$(WASM)/$$(basename $$d).wasm;; esac; \
		GOOS=wasip1 GOARCH=wasm $(GO) build -trimpath -ldflags=-s -buildmode=c-shared -o $$out ./$$d || exit 1; \
		echo "$$out $$(wc -c < $$out) bytes"; \
	done

test: contracts vet test-race test-plain test-limits

test-race:
	$(GO) test -race -count=1 -timeout 15m $(RACE_PKGS)
	$(GO) test -race -count=1 -timeout 5m -run 'TestEncodeReference|TestCompleteBundleVerifies|TestDamagedReceipt' ./chain/proof/bundle

test-plain:
	$(GO) test -count=1 -timeout 15m $(PLAIN_PKGS)

# The hostile-client table asserts bounded resident memory, which the race
# detector distorts: it runs without -race (chain/node/attack_test.go).
test-limits:
	$(GO) test -count=1 -timeout 10m -run 'TestAttackTable' ./chain/node

vet:
	$(GO) vet ./...

# Fault injection: every scenario manifest of chain/e2e/scenarios on 4
# validator processes on 127.0.0.1 (kill, pause, all-kill, crash loop,
# partition, loss, Byzantine proposer) under a bounded load, with safety
# checks and liveness figures (appended to bin/e2e-report.md). `make test`
# runs the short ones. E2E=NAME runs only the scenarios matching NAME.
e2e: contracts
	@mkdir -p bin
	$(GO) test -count=1 -timeout 15m -run 'TestScenarios$$' -v ./chain/e2e -e2e.all -e2e.run '$(E2E)' -e2e.report $(CURDIR)/bin/e2e-report.md

# Soak (not in CI): 4 validator processes under load for DURATION with a
# seeded fault every 60 ± 20 s; commits per 10-s window, RSS, threads and
# open files every 10 s, to bin/soak-report.md.
DURATION ?= 1h
soak: contracts
	@mkdir -p bin
	$(GO) test -count=1 -timeout 0 -run 'TestSoak$$' -v ./chain/e2e -e2e.soak $(DURATION) -e2e.soakreport $(CURDIR)/bin/soak-report.md

# The main job: a local 4-validator network, the example contracts, a whole
# trial scenario and an offline verification. Pass ARGS=--keep to keep it.
demo: build contracts
	./$(BIN) demo --contracts $(WASM) $(ARGS)

# 4 validators on loopback QUIC, a bounded load of anchor transactions.
# Package benchmarks: go test -run '^$$' -bench . ./vm ./chain/consent ./chain/store ./chain/proof/bundle
bench: build
	./$(BIN) bench --validators 4 --txs 10000 --concurrency 256

# A short run of every fuzz target (FUZZTIME each), one worker each so the
# shared machine stays usable; prints the executions each target ran.
# -fuzzminimizetime bounds the minimising of each new interesting input (by
# default up to 60 s each, during which no execution is counted and little
# fuzzing happens: FuzzDecodeCommitted ran 3 executions in its first 6 s).
fuzz:
	@for p in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$p 2>/dev/null | grep '^Fuzz'); do \
			out=$$($(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) -parallel 1 $$p 2>&1); rc=$$?; \
			execs=$$(printf '%s\n' "$$out" | grep -o 'execs: [0-9]*' | tail -1 | grep -o '[0-9]*'); \
			printf 'fuzz %-45s %-28s %10s execs\n' $$p $$f "$${execs:-0}"; \
			if [ $$rc -ne 0 ]; then printf '%s\n' "$$out"; exit 1; fi; \
		done; \
	done

clean:
	rm -rf bin
