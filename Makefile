# The two commands of the README: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup services system-packages timescaledb lint typecheck pytest pytest-timescale bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

system-packages:
	./scripts/system-packages.sh

services: setup
	./scripts/services.sh

# The production storage path: TimescaleDB 2.26.4 built from ../shared/vendor, a second PostgreSQL
# 15 cluster on 127.0.0.1:5439 (scripts/timescaledb.sh; the build is cached per machine).
timescaledb:
	./scripts/timescaledb.sh

demo: setup
	$(BIN)/safewatch demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	SW_REQUIRE_TIMESCALE=1 $(BIN)/pytest

# The storage, monitoring and API integration tests again, on TimescaleDB (hypertables,
# compression, continuous aggregate). Tests that apply to the native path only skip themselves;
# pytest's exit code 5 (nothing collected) is not a failure when a glob matches no file.
TIMESCALE_URL := postgresql://postgres@127.0.0.1:5439/postgres
TIMESCALE_TESTS = $(wildcard tests/integration/test_migrations.py tests/integration/test_timeseries.py \
	tests/integration/test_draw_storage.py tests/integration/test_live_audit.py \
	tests/integration/test_monitor_*.py tests/integration/test_api_*.py \
	tests/integration/test_health_auth.py tests/integration/test_rbac_matrix.py)
pytest-timescale: setup
	SW_TEST_DATABASE_URL=$(TIMESCALE_URL) \
	  $(BIN)/pytest -q -p no:cacheprovider $(TIMESCALE_TESTS) || [ $$? -eq 5 ]

test: system-packages services timescaledb lint typecheck pytest pytest-timescale

bench: services
	command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python bench/draw.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/video.py

clean:
	rm -rf $(VENV) var artifacts .mypy_cache .ruff_cache .pytest_cache
