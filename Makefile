# Shunliu: `make run` starts the app on the embedded default, `make test` runs every test.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app suite.app:create_app
STAMP := $(VENV)/.installed

AXE_DIR := .cache/axe
AXE := $(AXE_DIR)/node_modules/axe-core/axe.min.js

.PHONY: axe run test test-fast lint format install translations extract-messages fonts db worker scheduler migration clean bench-kernel bench-web

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	@$(BIN)/pybabel compile --statistics -d translations 2>&1 | grep -v "^compiling" || true

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

# Chinese PDFs need a CJK font: install it when missing and we can (root with apt-get).
fonts:
	@if fc-list :lang=zh family 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing fonts-noto-cjk (Chinese in PDFs)"; \
	  (apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq fonts-noto-cjk >/dev/null)); \
	else echo "WARNING: no CJK font found; install fonts-noto-cjk so PDFs show Chinese"; fi

db: install
	@$(FLASK) suite init
	@$(FLASK) suite seed-demo

run: install fonts db
	@echo
	@echo "  Shunliu is starting at http://127.0.0.1:$(PORT)"
	@echo "  Log in as admin (or staff, dept_head, finance, gm, buyer, warehouse, sales, ...)"
	@echo "  password: shunliu-demo"
	@echo
	SUITE_SCHEDULER_INPROCESS=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The whole suite on SQLite, plus the PostgreSQL/Redis/RQ tests against throwaway servers.
# axe-core for the browser accessibility checks (npm; --ignore-scripts: nothing else downloads).
$(AXE):
	@if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --ignore-scripts --prefix $(AXE_DIR) axe-core@4 >/dev/null; \
	else echo "WARNING: npm not found; the axe-core accessibility checks will skip"; fi

axe: $(AXE)

test: install axe
	$(PY) scripts/with_services.py -- $(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check suite modules tests scripts bench wsgi.py
	$(BIN)/ruff format --check suite modules tests scripts bench wsgi.py

format: $(STAMP)
	$(BIN)/ruff format suite modules tests scripts wsgi.py
	$(BIN)/ruff check --fix suite modules tests scripts wsgi.py

worker: install
	$(FLASK) suite worker

scheduler: install
	$(FLASK) suite scheduler

migration: install
	$(FLASK) db migrate -m "$(m)"

clean:
	rm -rf $(VENV) .pytest_cache instance/shunliu.sqlite3*

# Workflow kernel benchmark on PostgreSQL (SUITE_BENCH_DATABASE_URL, else a throwaway cluster).
# BENCH_ARGS="--tasks 100000 --timers 5000" for a quicker run.
bench-kernel: install
	@if [ -n "$$SUITE_BENCH_DATABASE_URL" ]; then $(BIN)/python bench/kernel.py $(BENCH_ARGS); \
	else $(PY) scripts/with_services.py -- $(BIN)/python bench/kernel.py $(BENCH_ARGS); fi

# Web pages (order list, order detail, inbox) under gunicorn + wrk against a bare Flask page, on
# PostgreSQL (SUITE_BENCH_DATABASE_URL, else a throwaway cluster). Needs wrk (apt-get install wrk).
# BENCH_ARGS="--orders 20000 --tasks 20000" for a quicker run; see docs/PERFORMANCE.md.
bench-web: install
	@if [ -n "$$SUITE_BENCH_DATABASE_URL" ]; then $(BIN)/python bench/web.py $(BENCH_ARGS); \
	else $(PY) scripts/with_services.py -- $(BIN)/python bench/web.py $(BENCH_ARGS); fi
