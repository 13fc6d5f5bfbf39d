# compare — `make help` lists the targets. The two everyday commands are `make report`
# and `make test`; both set up the project's environment (.venv) first when it is missing.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ENV_STAMP := $(VENV)/.installed
COMPARE := $(BIN)/compare

RAW := $(sort $(wildcard data/raw/*))
PIPELINE_SRC := $(sort $(wildcard src/compare/*.py src/compare/data/*))
PROCESSED_STAMP := build/stamps/processed

## ---------------------------------------------------------------- everyday

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2} /^## -/ {print ""}' $(MAKEFILE_LIST)

.PHONY: report
report: $(PROCESSED_STAMP) ## build every table, figure and rendered notebook from data/raw/

.PHONY: test
test: report ## run the test suite (after building the report it checks)
	$(BIN)/python -m pytest -q

.PHONY: data
data: $(PROCESSED_STAMP) ## build only the processed tables (data/processed/)

## ---------------------------------------------------------------- environment

$(ENV_STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "compare needs Python >= 3.11; found $$($(PYTHON) -V 2>&1). Run: make PYTHON=python3.12 report" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
	  { echo "could not create $(VENV): install your Python's venv module (Debian/Ubuntu: apt install python3-venv)" >&2; exit 1; }
	@echo "installing compare and its pinned dependencies into $(VENV) (first run: a few minutes)"
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -c requirements.lock -e '.[dev]'
	@touch $@

.PHONY: env
env: $(ENV_STAMP) ## create or update the project's environment (.venv)

.PHONY: lock
lock: ## re-resolve requirements.lock (exact pins) from pyproject.toml's ranges
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install -qq --upgrade pip
	build/lock-venv/bin/python -m pip install -qq -e '.[dev]'
	build/lock-venv/bin/python -m pip freeze --exclude-editable | grep -iv '^compare' > requirements.lock
	rm -rf build/lock-venv

## ---------------------------------------------------------------- pipeline

$(PROCESSED_STAMP): $(RAW) $(PIPELINE_SRC) | $(ENV_STAMP)
	$(COMPARE) build
	@mkdir -p $(@D) && touch $@

## ---------------------------------------------------------------- housekeeping

.PHONY: clean
clean: ## remove generated data and build products (keeps .venv)
	rm -rf data/processed data/interim build
