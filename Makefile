# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Three workers on two cores (the browser tests mostly wait on pages), taking the tests in the
# order tests/conftest.py sets.
TEST_WORKERS ?= 3

.PHONY: demo test test-ci test-js bench install install-test chromium lint format migrate clean

# Packages install with uv (from PyPI, four times faster than pip here); where uv cannot be
# had, with pip.
PIP_INSTALL = $(VENV)/bin/uv pip install --quiet --python $(PY)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv || true

# Reinstall only when the declared dependencies change.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP_INSTALL) -e . || $(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP_INSTALL) -e '.[test]' || $(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# Browser libraries (Chart.js for the reports page), served as they are by Django's staticfiles.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "npm (Node.js 18 or later) is needed to install Chart.js; install it and run make again."; exit 1; fi; \
	echo "Installing Node.js and npm from Debian's packages..."; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed node_modules/.installed

install-test: $(VENV)/.installed-test node_modules/.installed

# The demo's secret key, kept so that logins survive a restart; the settings only read it.
.local/secret_key:
	@mkdir -p .local
	@umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

## Set up, seed demo data and serve on http://$(HOST):$(PORT) with live demo traffic.
demo: install .local/secret_key
	DEMO_TRAFFIC=1 $(PY) manage.py demo --host $(HOST) --port $(PORT)

## Install what the tests need (Chromium through apt where missing and permitted) and run them all:
## lint and format, the layer contract (import-linter), the browser modules' pure parts under
## Node's test runner, then the Python suite.
test: install-test chromium
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/lint-imports --no-cache
	node --test --test-reporter=dot tests/js/
	$(PY) -m pytest --numprocesses=$(TEST_WORKERS) --dist=loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

## Everything CI runs, here: missing services fail, and the unit suites run again on PostgreSQL.
test-ci:
	CI=true $(MAKE) test

## The browser modules' pure parts (state reducers, helpers) under Node's own test runner (Node 20+).
test-js:
	node --test --test-reporter=dot tests/js/

# Debian's Chromium for the browser tests; Playwright cannot download its own browser here.
chromium:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "Chromium is missing and apt is not permitted: browser tests will be skipped (fail under CI=true)."; exit 0; fi; \
	echo "Installing Chromium from Debian's packages..."; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null \
	|| echo "Chromium could not be installed: browser tests will be skipped (fail under CI=true)."

migrate: install
	$(PY) manage.py migrate --noinput

# Benchmarks print `name value unit` lines and write bench/results.json. All but the first need
# PostgreSQL (enqueue_to_offer and floor Redis too) on 127.0.0.1, as the integration tests do,
# and the test extras.
bench: install-test
	$(PY) bench/engine_plan.py
	$(PY) bench/persisted_round.py
	$(PY) bench/idle_round.py
	$(PY) bench/enqueue_to_offer.py
	$(PY) bench/supervisor_snapshot.py
	$(PY) bench/dashboard_delta.py
	$(PY) bench/backlog.py
	$(PY) bench/ideal_routing.py
	$(PY) bench/floor.py

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles .pytest_cache
