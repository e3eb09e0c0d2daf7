# ClientLedger. The README names two targets: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
# uv from PATH, else the one pip installs as a module (bootstrapped below if missing).
UV := $(shell command -v uv >/dev/null 2>&1 && echo uv || echo "$(PYTHON) -m uv")
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
RUN_ARGS ?=
PYTEST_WORKERS ?= 2

.PHONY: run test lint lint-imports format typecheck bench bench-scale bench-load check-deploy uv

uv:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv

$(BIN)/clientledger: pyproject.toml uv.lock | uv
	$(UV) sync --frozen --quiet
	@touch $@

# Client links (emails, portal, webhook URL) follow HOST and PORT unless SITE_URL is set.
# RUN_ARGS passes options on, e.g. RUN_ARGS=--check prepares everything without serving.
run: $(BIN)/clientledger
	CLIENTLEDGER_EMBEDDED=true HOST=$(HOST) PORT=$(PORT) $(BIN)/clientledger run $(RUN_ARGS)

# The browser journeys need Debian's chromium: installed first when missing (as root).
test: $(BIN)/clientledger
	@scripts/ensure-chromium
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -q

lint: $(BIN)/clientledger
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The layers and contracts of docs/architecture.md ([tool.importlinter] in pyproject.toml).
lint-imports: $(BIN)/clientledger
	$(BIN)/lint-imports

format: $(BIN)/clientledger
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(BIN)/clientledger
	CLIENTLEDGER_TESTING=true $(BIN)/mypy clientledger config tests bench

check-deploy: $(BIN)/clientledger
	DEBUG=false SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=app.example.com \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

# SQLite, then PostgreSQL when BENCH_DATABASE_URL answers (a bench_ database is made there).
BENCH_DATABASE_URL ?= postgres://root@127.0.0.1:5432/postgres
bench: $(BIN)/clientledger
	@status=0; $(BIN)/python -m bench || status=1; \
	if $(BIN)/python -c "import psycopg, sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" \
		"$(BENCH_DATABASE_URL)" 2>/dev/null; then \
		DATABASE_URL="$(BENCH_DATABASE_URL)" $(BIN)/python -m bench || status=1; \
	else echo "PostgreSQL at BENCH_DATABASE_URL does not answer: its pass is skipped"; fi; \
	exit $$status

# Issue 14 at 500,000 invoices (BENCH_SCALE_INVOICES) on the PostgreSQL of BENCH_DATABASE_URL:
# the database bench_scale_<invoices> is loaded once by COPY and kept for the next run (a few
# minutes; BENCH_ARGS=--fresh loads it anew). bench-scale: each page's p95, floor, ratio and
# query count; bench-load: 32 connections for 60 s at the served portal page and API list.
BENCH_ARGS ?=
bench-scale: $(BIN)/clientledger
	DATABASE_URL="$(BENCH_DATABASE_URL)" $(BIN)/python -m bench --scale $(BENCH_ARGS)

bench-load: $(BIN)/clientledger
	DATABASE_URL="$(BENCH_DATABASE_URL)" $(BIN)/python -m bench --load $(BENCH_ARGS)
