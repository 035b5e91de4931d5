# wangge — `make run` serves the platform, `make test` runs the checks.
# Each step is idempotent: a second run skips what is already done.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SYSTEM_PACKAGES := postgis chromium fonts-noto-cjk  # PDFs of reports and label sheets need both
TEST_SYSTEM_PACKAGES := postgis chromium chromium-driver fonts-noto-cjk fonts-noto-color-emoji curl pgbouncer

.DEFAULT_GOAL := help
.PHONY: help install system db demo run test test-unit test-slow lint format bench clean

help: ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	@$(BIN)/python -m pip install -q -e ".[dev]" --config-settings editable_mode=compat 2>&1 | grep -Ev '^(WARNING: Location|  )' || true
	@$(BIN)/python -c "import api.cli" && touch $@
	@echo "wangge: python environment ready in $(VENV)"

install: $(INSTALLED) ## create the virtualenv and install wangge into it

system: ## install PostgreSQL + PostGIS from the system packages where missing
	@scripts/ensure-system-packages $(SYSTEM_PACKAGES)

db: install system ## start the database (embedded cluster or DATABASE_URL) and migrate it
	@$(BIN)/wangge db up
	@$(BIN)/wangge db upgrade

demo: db ## load the reference district (Shibei) if it is not loaded yet
	@$(BIN)/wangge demo load

run: demo ## set everything up and serve on http://127.0.0.1:8000
	@$(BIN)/wangge serve --demo-feed

NODE_TOOLS := node_modules/.installed

$(NODE_TOOLS): package.json package-lock.json # eslint, pinned by the lock file
	@command -v npm >/dev/null || scripts/ensure-system-packages npm
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test: install $(NODE_TOOLS) ## set up as `run` does, then every lint and every test
	@scripts/ensure-system-packages $(TEST_SYSTEM_PACKAGES)
	@$(BIN)/wangge db up
	@$(MAKE) --no-print-directory lint
	@$(BIN)/pytest

test-unit: install ## the tests that need no database: tests/unit and the doctests (seconds)
	@$(BIN)/pytest -q tests/unit geo layers

test-slow: install ## the long checks (marked slow) only
	@scripts/ensure-system-packages $(TEST_SYSTEM_PACKAGES)
	@$(BIN)/wangge db up
	@$(BIN)/pytest -m slow

lint: install $(NODE_TOOLS) ## ruff, mypy, the import contracts and eslint
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy
	@$(BIN)/lint-imports --no-cache | tail -1
	@npx --no-install eslint web/static/js

format: install ## apply ruff's formatting and safe fixes
	@$(BIN)/ruff check --fix . && $(BIN)/ruff format .

TIPG := .venv-tipg/.installed

$(TIPG): # tipg, the baseline tile server, in a virtualenv of its own (its FastAPI pin is not ours)
	@test -x .venv-tipg/bin/python || $(PYTHON) -m venv .venv-tipg
	@.venv-tipg/bin/python -m pip install -q "tipg==1.6.1" "uvicorn[standard]" 2>&1 | grep -v '^WARNING: Location' || true
	@.venv-tipg/bin/python -c "import tipg.main" && touch $@

bench: install $(TIPG) ## measure speed beside baselines; writes docs/benchmarks.md
	@scripts/ensure-system-packages $(TEST_SYSTEM_PACKAGES)
	@$(BIN)/wangge db up
	@$(BIN)/python -m bench

clean: ## stop the embedded cluster and delete var/ and the virtualenv
	-@test -x $(BIN)/wangge && $(BIN)/wangge db down
	rm -rf var $(VENV) .venv-tipg node_modules
