# wingapp: `make run` serves a development site, `make test` runs every test.
# Both set up what they need on a fresh machine.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
INI    ?= development.ini
# `make zeo` serves var/Data.fs here; development-zeo.ini connects to it.
ZEO    ?= 127.0.0.1:8100
# `make run ADMIN_EMAIL=you@example.org`: the first admin's address.
ADMIN_EMAIL ?=
# pyramid 2.1 imports pkg_resources, which warns when it is imported. pserve
# imports pyramid before wingapp can filter the warning (wingapp/__init__.py
# does it for the `wingapp` command).
QUIET  := PYTHONWARNINGS='ignore:pkg_resources is deprecated:UserWarning'

.DEFAULT_GOAL := help
.PHONY: help run zeo test lint format bench system clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.installed: setup.py pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 'setuptools<82' wheel
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed setup.py
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed ## install, create var/ (secrets, database, admin) and serve on :6543
	@$(QUIET) $(BIN)/wingapp $(INI) init $(if $(ADMIN_EMAIL),--admin-email '$(ADMIN_EMAIL)')
	@# A var/ made by an earlier version: its data brought up to this one's.
	@$(QUIET) $(BIN)/wingapp $(INI) evolve
	@$(QUIET) $(BIN)/pserve $(INI)

zeo: $(VENV)/.installed ## serve var/Data.fs over ZEO (127.0.0.1:8100) for development-zeo.ini
	mkdir -p var
	$(BIN)/runzeo -a $(ZEO) -f var/Data.fs

system: ## install the system packages the integration tests use (apt)
	bash tools/system-packages.sh

test: $(VENV)/.test-installed system ## install test tools, lint, run all tests with 100% coverage
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest --cov=wingapp --cov-branch --cov-report=term-missing --cov-fail-under=100 $(PYTEST_ARGS)

lint: $(VENV)/.test-installed ## ruff check and format check; layer contracts
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

format: $(VENV)/.test-installed ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: $(VENV)/.test-installed system ## page speed vs. bare Pyramid, then a crowd on pserve and mod_wsgi; writes BENCHMARKS.md
	$(BIN)/python bench/run.py
	$(BIN)/python bench/concurrency.py $(BENCH_ARGS)

# Where `make endure-million` builds its million accounts and events (about
# 12 GiB; kept, so that a second run only measures).
ENDURE_WORK ?= /var/tmp/wingapp-1m
.PHONY: endure endure-million

endure: $(VENV)/.test-installed system ## kill -9, PostgreSQL restarts and reloads under load; writes BENCHMARKS.md
	$(BIN)/python bench/endurance_kill.py
	$(BIN)/python bench/endurance_pg_restart.py --server pserve
	$(BIN)/python bench/endurance_pg_restart.py --server modwsgi
	$(BIN)/python bench/endurance_reload.py

endure-million: $(VENV)/.test-installed system ## a million accounts and events: size, start-up, memory, signed-in page (an hour to build)
	$(BIN)/python bench/endurance_1m.py --work $(ENDURE_WORK)

clean: ## remove the virtualenv and caches (keeps var/, the data)
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage htmlcov src/*.egg-info
