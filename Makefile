# Corsi PA: `make run` serves the portal with demo data; `make test` runs the linters, then the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# Shared libraries WeasyPrint loads at run time (PDF certificates and sign-in sheets).
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 fonts-dejavu-core

.PHONY: run test test-deps lint format sysdeps install install-dev migrate seed messages worker beat clean

# The portal is in production mode unless DEBUG is set: the development targets set it (and so
# use the embedded default: SQLite, a generated SECRET_KEY, localhost). `DEBUG=0 make ...` wins.
run migrate seed messages worker beat: export DEBUG ?= 1

run: sysdeps install migrate seed
	@echo "Serving Corsi PA on http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: lint test-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# node-oidc-provider for the SPID/CIE tests, as locked in tests/support/oidc/package-lock.json.
OIDC_TEST_PROVIDER := tests/support/oidc
test-deps:
	@if command -v npm >/dev/null; then \
	  [ $(OIDC_TEST_PROVIDER)/node_modules/.package-lock.json -nt $(OIDC_TEST_PROVIDER)/package-lock.json ] \
	  || (cd $(OIDC_TEST_PROVIDER) && npm ci --no-audit --no-fund); \
	else echo "npm not found: the tests that need node-oidc-provider are skipped"; fi

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/djlint templates --lint

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

sysdeps:
	@missing=""; for lib in libpango-1.0.so.0 libpangoft2-1.0.so.0 libfontconfig.so.1; do \
	  ldconfig -p 2>/dev/null | grep -q "$$lib" || missing="yes"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "Installing the libraries WeasyPrint needs: $(SYSTEM_PACKAGES)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
	  else \
	    echo "WeasyPrint needs Pango. Run: sudo apt-get install -y $(SYSTEM_PACKAGES)"; exit 1; \
	  fi; \
	fi
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  else echo "Python's venv is missing. Run: sudo apt-get install -y python3-venv"; exit 1; fi; }

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

seed: install
	$(PY) manage.py seed_demo

messages: install
	$(PY) manage.py makemessages --all --no-location --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

# With REDIS_URL set: a Celery worker and the beat scheduler (periodic reminders).
worker: install
	$(VENV)/bin/celery -A portal worker -l info --concurrency 2

beat: install
	$(VENV)/bin/celery -A portal beat -l info --schedule var/celerybeat-schedule

clean:
	rm -rf $(VENV) var
