# goodjob-pg developer tasks. Server defaults: the local PostgreSQL, trust auth.
VENV ?= .venv
PYTHON ?= $(VENV)/bin/python
PG_SERVER ?= postgresql://postgres@127.0.0.1:5432
DATABASE_URL ?= $(PG_SERVER)/postgres
PGTAP_DB ?= goodjob_pgtap
# SCHEMA=jobs: install-sql, install-roles and pgtap work in that schema
# (created if missing) instead of the first one on the search_path.
SCHEMA ?=
PYTEST_ARGS ?=
BENCH_ARGS ?=
FAULTS_ARGS ?=
SOAK_ARGS ?=
BENCH_VENV ?= bench/.venv

comma := ,
PSQL = PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1

.PHONY: test pytest pgtap pgtap-schema install-sql install-roles schema lint deps demo bench bench-peers faults soak

## test: pytest, then the pgTAP suite (installs what they need first)
test: deps
	@$(MAKE) --no-print-directory pytest pgtap pgtap-schema

## deps: the .venv with the package and its test extra; pgTAP and pg_prove; chromium; faketime
deps: $(VENV)/.installed
	@.ci/install-pgtap
	@.ci/install-chromium
	@.ci/install-faketime

$(VENV)/.installed: pyproject.toml
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	@touch $@

## demo: a worker on the local Postgres running a few hundred real jobs
demo: $(VENV)/.installed
	$(PYTHON) -m goodjob_pg.demo

## bench: benchmark vs the bare-SQL floor in a fresh database (~10 min; BENCH_ARGS="--quick", "--only drain")
bench: $(VENV)/.installed
	$(PYTHON) -m bench $(BENCH_ARGS)

## bench-peers: enqueue, drain and latency on goodjob-pg, Procrastinate and PgQueuer (venv $(BENCH_VENV))
bench-peers: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m bench.peers $(BENCH_ARGS)

$(BENCH_VENV)/.installed: pyproject.toml bench/peers/requirements.txt
	@[ -x $(BENCH_VENV)/bin/python ] || python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q -e . -r bench/peers/requirements.txt
	@touch $@

## faults: the fault suite at full size (real workers killed, cut, paused; ~5 min), prints a report
faults: $(VENV)/.installed
	$(PYTHON) -m tests.faults $(FAULTS_ARGS)

## soak: 1,000,000 jobs and a 10-minute snapshot in a fresh database; sizes, dead tuples, fetch p99 (~25 min; SOAK_ARGS="--jobs 200000 --long-transaction-seconds 120")
soak: $(VENV)/.installed
	$(PYTHON) -m bench.soak $(SOAK_ARGS)

## pytest: the Python tests (exit 5, "no tests collected", is a failure)
pytest:
	@$(PYTHON) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make pytest: pytest collected no tests" >&2; fi; \
	exit $$rc

## pgtap: fresh database $(PGTAP_DB), migrations, pgtap extension, pg_prove pgtap/
pgtap:
	@find pgtap -name '*.sql' | grep -q . || { echo "make pgtap: no pgTAP files in pgtap/" >&2; exit 1; }
	$(PSQL) -d "$(PG_SERVER)/postgres" -c 'drop database if exists $(PGTAP_DB) with (force)' \
		-c 'create database $(PGTAP_DB)'
	SCHEMA=$(SCHEMA) sql/install.sh "$(PG_SERVER)/$(PGTAP_DB)"
	$(PSQL) -d "$(PG_SERVER)/$(PGTAP_DB)" -c 'create extension if not exists pgtap'
	$(if $(SCHEMA),PGOPTIONS='-c search_path=$(SCHEMA)$(comma)public') pg_prove -d "$(PG_SERVER)/$(PGTAP_DB)" --ext .sql -r pgtap/

## pgtap-schema: the pgTAP suite again, against an install in schema jobs
pgtap-schema:
	@$(MAKE) --no-print-directory pgtap SCHEMA=jobs PGTAP_DB=$(PGTAP_DB)

## install-sql: apply the migrations to DATABASE_URL with psql
install-sql:
	SCHEMA=$(SCHEMA) sql/install.sh "$(DATABASE_URL)"

## install-roles: goodjob_owner/enqueuer/worker/admin, PUBLIC revoked, definer functions (sql/roles.sql; re-run after migrate)
install-roles:
	$(PSQL) -d "$(DATABASE_URL)" $(if $(SCHEMA),-c 'set search_path = "$(SCHEMA)"') -f sql/roles.sql

## schema: regenerate sql/schema.sql from a fresh install
schema:
	sql/dump_schema.sh "$(PG_SERVER)/postgres" > sql/schema.sql.tmp || { rm -f sql/schema.sql.tmp; exit 1; }
	mv sql/schema.sql.tmp sql/schema.sql

## lint: ruff and mypy --strict (not part of test)
lint:
	$(PYTHON) -m ruff check goodjob_pg tests examples
	$(PYTHON) -m ruff format --check goodjob_pg tests examples
	$(PYTHON) -m mypy --strict goodjob_pg
