# CryptoCare: the two commands that matter are `make dev` (run the whole platform, embedded) and
# `make test` (every test, against real PostgreSQL, Redis and Kafka started by scripts/infra).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CHECKPOINT_DISABLE := 1

# Every target runs on the Node of .node-version (an LTS), installed by the repository itself from
# the npm registry when the machine has another one; npm and npx run on it too. Native modules
# (argon2) compile against its headers, which the same package ships.
NODE_BIN := $(shell bash scripts/tools/node.sh)
ifeq ($(NODE_BIN),)
$(error could not install the Node.js of .node-version (scripts/tools/node.sh))
endif
export PATH := $(NODE_BIN):$(PATH)
export npm_config_nodedir := $(abspath $(NODE_BIN)/..)

.PHONY: help install advisories gen lint typecheck infra-up infra-down browser fuzzer web test dev bench bench-load bench-overload bench-failover bench-lighthouse bench-profile bench-gc-per-read bench-db-reads bench-directory-churn bench-password-check bench-log-line bench-time-passing bench-booking-trace bench-young-generation breaking seed faults

help:
	@echo "make dev         run the whole platform and the web client on http://localhost:8080 (embedded, npm packages only)"
	@echo "make test        install, generate, start PostgreSQL/Redis/Kafka, run every test"
	@echo "make infra-up    start local PostgreSQL, Redis and Kafka (no containers)"
	@echo "make infra-down  stop them"
	@echo "make gen         regenerate gRPC contracts (ts-proto) and Prisma clients"
	@echo "make bench       run the benchmarks in bench/ and record the results"
	@echo "make seed        a realistic directory of 50 000 professionals in the local PostgreSQL (docs/search.md)"
	@echo "make bench-load  the plan's load tests (2 000 users, 5x peak, endurance, scale-out)"
	@echo "make bench-profile  each read route saturated alone under the CPU profiler: the heaviest functions per service"
	@echo "make bench-booking-trace  bookings one at a time, every trace sampled: where one booking's time goes, span by span"
	@echo "make bench-gc-per-read  the gateway's minor GCs per 1 000 micro-cached reads (allocation, counted: compares settings on a drifting host)"
	@echo "make bench-young-generation  the read path under V8's GC trace: what each scavenge keeps and promotes, per service"
	@echo "make bench-log-line  what one log line costs its thread: the secret scrub and the gateway's access line"
	@echo "make bench-time-passing  the idle platform on the 50 000 directory as slots pass: republished, moved on, CPU per process"
	@echo "make bench-password-check  what judging a new password costs identity's thread (zxcvbn), with the shipped limits and its defaults"
	@echo "make bench-db-reads  a profile read, a search page (50 000 profiles) and an outbox relay pass: service CPU through Prisma vs pg"
	@echo "make bench-directory-churn  search while availability changes rewrite profiles: GIN pending lists and vacuum, defaults vs the migration"
	@echo "make bench-overload  5x the read capacity, open loop: load shedding, latency, recovery (bench/overload.ts)"
	@echo "make bench-failover  50 bookings with the primary payment provider stopped: time to an invoice (bench/failover.ts)"
	@echo "make faults      the fault-injection suite: >= 1 000 bookings through Kafka, PostgreSQL, Redis and service failures, then the invariant checker"

# Installs dependencies (the versions of package-lock.json) when a manifest changed since the last
# install; runs `gen` (postinstall). Not `npm ci`: npm 11 writes lockfiles without other platforms'
# optional packages and then refuses them in `npm ci` (npm/cli#8805, #4828).
node_modules/.install-stamp: .node-version package-lock.json package.json libs/*/package.json services/*/package.json web/package.json
	npm install --no-audit --no-fund
	@touch $@

install: node_modules/.install-stamp

# Advisories of the runtime dependencies (npm audit --omit=dev): fails on high or critical unless
# scripts/tools/advisories-allowlist.json accepts one, dated and with a reason (docs/dependencies.md).
# The install itself skips npm's audit (--no-audit): this is the one place that decides.
advisories: install
	node scripts/tools/advisories.mjs

gen: install
	npm run gen

lint: install
	npx buf lint proto

# Compatibility of the contracts with the main branch (skipped where main has no proto/ yet).
breaking: install
	@if git rev-parse --verify -q main >/dev/null && git cat-file -e main:proto/buf.yaml 2>/dev/null; then \
	  npx buf breaking proto --against '.git#branch=main,subdir=proto'; \
	else echo "buf breaking: main has no proto/ yet, nothing to compare"; fi

typecheck: install
	npx tsc -p tsconfig.json
	npx tsc -p web/tsconfig.json --noEmit

infra-up: install
	bash scripts/infra/up.sh >/dev/null

# Debian's Chromium for the browser test of the web client.
browser:
	bash scripts/infra/browser.sh

# The web client (React + Vite) into web/dist; the gateway serves it at /.
web: install
	npm run build -w web

infra-down:
	bash scripts/infra/down.sh

# Schemathesis (PyPI) for the OpenAPI fuzzing run of services/gateway/test/hostile-input.test.ts.
fuzzer:
	bash scripts/tools/schemathesis.sh >/dev/null

test: install advisories lint breaking typecheck infra-up browser fuzzer
	@echo "make test: Node $$(node --version) from $(NODE_BIN)"
	source scripts/infra/env.sh && npx jest --ci

dev: install web
	npm run dev

# A realistic directory at scale in the local PostgreSQL (scripts/seed.ts; SEED_ARGS="--professionals 50000").
seed: install infra-up
	source scripts/infra/env.sh && npx tsx scripts/seed.ts $(SEED_ARGS)

bench: install infra-up
	source scripts/infra/env.sh && npx tsx bench/run.ts

# The plan's load tests: 2 000 patients, a 5x peak, a bounded endurance run, baselines and scale-out
# (bench/load.ts; about 12 minutes; BENCH_* variables documented there).
bench-load: install infra-up
	source scripts/infra/env.sh && npx tsx bench/load.ts

bench-overload: install infra-up
	source scripts/infra/env.sh && npx tsx bench/overload.ts

# Payment failover: 50 bookings in a row with Swiss Bitcoin Pay's simulator stopped, each timed until
# the patient has its invoice (from BTCPay) against the plan's 2 s (bench/failover.ts; about a minute).
bench-failover: install infra-up
	source scripts/infra/env.sh && npx tsx bench/failover.ts

# Lighthouse (mobile) on the home and a professional's page, in Debian's Chromium, against `make dev`
# (bench/lighthouse.ts; a few minutes; fetches the lighthouse npm package with npx the first time).
bench-lighthouse: install browser
	npx tsx bench/lighthouse.ts

# Where the read path spends its CPU: each read route saturated alone under V8's profiler (bench/profile.ts).
bench-profile: install infra-up
	source scripts/infra/env.sh && npx tsx bench/profile.ts

# Where one booking's time goes, span by span, every trace sampled (bench/booking-trace.ts).
bench-booking-trace: install infra-up
	source scripts/infra/env.sh && npx tsx bench/booking-trace.ts

# What the gateway allocates per micro-cached read, counted in minor GCs (bench/gc-per-read.ts): settings compared on a drifting host.
bench-gc-per-read: install infra-up
	source scripts/infra/env.sh && npx tsx bench/gc-per-read.ts

# What the read path's scavenges keep and promote, from V8's --trace-gc-nvp (bench/young-generation.ts; BENCH_NODE_ARGS: V8 flags to try).
bench-young-generation: install infra-up
	source scripts/infra/env.sh && npx tsx bench/young-generation.ts

# What time passing costs the idle platform on the 50 000 directory (bench/time-passing.ts; BENCH_MINUTES, 15 by default).
bench-time-passing: install infra-up
	source scripts/infra/env.sh && npx tsx bench/time-passing.ts

# A profile read, a search page (50 000 profiles) and an empty outbox relay pass: the service's CPU per call through Prisma and through pg.
bench-db-reads: install infra-up
	source scripts/infra/env.sh && npx tsx bench/db-reads.ts

# Search while availability changes rewrite profiles: GIN pending lists and vacuum, PostgreSQL's defaults against the migration's (bench/directory-churn.ts; about two minutes).
bench-directory-churn: install infra-up
	source scripts/infra/env.sh && npx tsx bench/directory-churn.ts

# What zxcvbn costs identity's thread per new password, shipped limits against its defaults (no servers).
bench-password-check: install
	npx tsx bench/password-check.ts

bench-log-line: install
	npx tsx bench/log-line.ts

# The long fault-injection run (docs/operations/faults.md): its own PostgreSQL/Redis/Kafka on loopback
# ports 17432/17379/17092 (data in .data/faults-infra, torn down at the end), every service its own
# process; exits non-zero on any invariant violation. The short run is a test inside `make test`.
faults: install
	npx tsx scripts/faults.ts run

# Kubernetes delivery: images, chart checks, deploy (see README, "Deployment").
include deploy/Makefile.fragment
