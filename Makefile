# NanoGen: `make run` runs the service locally, `make test` runs the whole test suite.
# Both create .venv and install the pinned requirements on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/nanogen

.PHONY: run test lint check bench venv clean

$(VENV)/.installed-run: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

venv: $(VENV)/.installed-run

## run: web on http://127.0.0.1:8000, a Django-Q2 worker and (with TELEGRAM_BOT_TOKEN) the bot; Ctrl-C stops all.
run: $(VENV)/.installed-run
	./scripts/run-dev

## test: the whole pytest suite against PostgreSQL (DATABASE_URL, default $(TEST_DATABASE_URL)).
test: $(VENV)/.installed-dev
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" ./scripts/check-postgres
	./scripts/ensure-chromium
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" $(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .

## check: migrations in step with the models, lint, the apps' layering (import-linter) and types (mypy).
check: $(VENV)/.installed-dev
	DEBUG=true DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy .

## bench: benchmarks (start endpoint under wrk vs pgbench and the plain-view ceiling, query plans at 10k and
## 1M rows, worker throughput, uploads, a broadcast) on a database of their own (BENCH_DATABASE_URL, default
## nanogen_bench); a report in bench/reports/. Not part of test. BENCH_ARGS="--only start" and so on.
bench: $(VENV)/.installed-dev
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" ./scripts/check-postgres
	./scripts/ensure-wrk
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" $(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
