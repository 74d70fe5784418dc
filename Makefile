# The two commands of the README: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup services system-packages lint typecheck pytest bench clean

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

demo: setup
	$(BIN)/safewatch demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

test: system-packages services lint typecheck pytest

bench: services
	command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python bench/draw.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/video.py

clean:
	rm -rf $(VENV) var artifacts .mypy_cache .ruff_cache .pytest_cache
