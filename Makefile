# One entry point per chore; CI calls the same targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The tests run on SQLite and on PostgreSQL (README, "Testing"); each suite is
# spread over this many processes, a test file to a process.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile
# Where `make run` serves: `make run PORT=8080`, `make run HOST=0.0.0.0`.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run demo test test-sqlite pytest-sqlite pytest-postgresql check lint format typecheck pytest bench bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## run: serve banshui with the simulated bureau and the demo cast on $(HOST):$(PORT)
run: $(STAMP)
	$(BIN)/banshui db upgrade
	$(BIN)/banshui serve --host $(HOST) --port $(PORT)

## demo: the six-step scenario (see README) on a fresh temporary database
demo: $(STAMP)
	$(BIN)/banshui demo

## test: lint, type-check and the whole test suite, on SQLite and on PostgreSQL
test: lint typecheck pytest

## test-sqlite: the same with the tests on SQLite alone (no PostgreSQL needed)
test-sqlite: lint typecheck pytest-sqlite

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

typecheck: $(STAMP)
	$(BIN)/mypy --strict src/banshui

## pytest: the tests alone, both suites at once (each one's output kept together)
pytest: $(STAMP)
	$(MAKE) --no-print-directory -j2 --output-sync=target pytest-sqlite pytest-postgresql

pytest-sqlite: $(STAMP)
	BANSHUI_TEST_DATABASE=sqlite $(PYTEST)

# Fails at once, saying so, when no PostgreSQL answers.
pytest-postgresql: $(STAMP)
	BANSHUI_TEST_DATABASE=postgresql $(PYTEST)

## check: the security checks at full size (crashes, load, fuzzing; several minutes)
check: $(STAMP)
	$(BIN)/pytest --check tests/security

## bench: every benchmark (a few minutes); writes bench/results/latest.json
bench: $(STAMP)
	$(BIN)/python -m bench

## bench-smoke: a tiny run of every benchmark, under a minute (figures mean nothing)
bench-smoke: $(STAMP)
	$(BIN)/python -m bench --quick --in-process --out $${TMPDIR:-/tmp}/banshui-bench-smoke.json

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
