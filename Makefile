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
# What `compare build` reads: the pipeline modules (not the report's or the coding commands', which live in report/ or are
# listed here) and the curated data files.
REPORT_ONLY := src/compare/plotting.py src/compare/tables.py src/compare/notebook.py src/compare/docs.py \
               src/compare/coding.py src/compare/qdpx.py \
               src/compare/cli.py
PIPELINE_SRC := $(filter-out $(REPORT_ONLY),$(sort $(wildcard src/compare/*.py src/compare/data/*.yaml \
                  src/compare/data/*.csv src/compare/data/*.txt src/compare/data/codebooks/*.yaml)))
# What researchers add: the codes imported from coders' sheets and the project's own codebooks.
CODING := $(sort $(wildcard data/coding/*.codes.csv data/coding/codebooks/*.yaml))
PROCESSED_STAMP := build/stamps/processed
# Every processed table (compare.schemas.ALL_TABLES; a test keeps the two lists the same).
TABLES := $(addprefix data/processed/,$(addsuffix .parquet,documents sections tasks citations cleaning_log targets target_mentions \
            rejected_numbers section_pairs document_similarity shared_passages keyness \
            document_parents lineage target_lineage instrument_units instrument_codes))
TEMPLATES := $(wildcard src/compare/data/templates/*.html)
WORKBOOK := data/processed/compare.xlsx

# The report plan (every page and what it is made from) is generated from notebooks/reports.yaml and the data.
PLAN := build/report-plan.json
# Kernels that run report pages at once: one per core, at most 4 (each holds a few hundred MB);
# `make report JOBS=1` for one.
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n < 4 ? n : 4 )))

## ---------------------------------------------------------------- everyday

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2} /^## -/ {print ""}' $(MAKEFILE_LIST)

.PHONY: report
report: $(PLAN) $(WORKBOOK) | $(ENV_STAMP) ## build every table, figure and rendered notebook from data/raw/
	@$(COMPARE) report update --jobs $(JOBS)

.PHONY: pair
pair: $(PLAN) | $(ENV_STAMP) ## the page of any two cities, into the site: make pair A=qingyang B=wuwei
	@$(COMPARE) report pair $(A) $(B)

.PHONY: test
test: report ## run the whole test suite (after building the report it checks)
	$(BIN)/python -m pytest -q

.PHONY: check
check: $(ENV_STAMP) ## the fast tests: units and the real documents, without building the report
	$(BIN)/python -m pytest -q -m "not report and not site and not slow"

.PHONY: lint
lint: $(ENV_STAMP) ## ruff: lint and formatting, zero findings
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks notebooks

.PHONY: docs
docs: $(ENV_STAMP) ## regenerate docs/data-dictionary.md, the measured table of docs/performance.md and the estimates of docs/cluster.md
	$(COMPARE) docs

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

$(PROCESSED_STAMP): $(RAW) $(PIPELINE_SRC) $(CODING) | $(ENV_STAMP)
	$(COMPARE) build
	@mkdir -p $(@D) && touch $@

# Tables keep their modification time when a rebuild leaves their bytes unchanged, so only the
# reports that read a changed table run again.
$(TABLES): $(PROCESSED_STAMP) ;

## ---------------------------------------------------------------- report

# Which pages are out of date (a notebook, a table it reads, a module it imports, a template changed),
# running them on kept kernels and rendering them: `compare report update` (src/compare/report/update.py).
$(PLAN): notebooks/reports.yaml $(wildcard notebooks/*.ipynb) src/compare/report/plan.py $(PROCESSED_STAMP) | $(ENV_STAMP)
	$(COMPARE) report plan

# Every table in one workbook for Excel and WPS (the CSVs are UTF-8, which they misread as GBK).
$(WORKBOOK): $(TABLES) $(PLAN) src/compare/export.py src/compare/schemas.py src/compare/docs.py | $(ENV_STAMP)
	$(COMPARE) export --format xlsx

.PHONY: site
site: report ## alias of report

.PHONY: check-reproducible
check-reproducible: ## delete the committed site and figures, rebuild them, and fail if a byte differs
	@test -x $(COMPARE) || $(MAKE) env
	$(COMPARE) report clean
	$(MAKE) report
	git diff --exit-code --stat -- site figures
	@untracked=$$(git ls-files --others --exclude-standard -- site figures); \
	  if [ -n "$$untracked" ]; then echo "not committed: $$untracked" >&2; exit 1; fi
	@echo "site/ and figures/ are byte-identical to a fresh build"

SIZES ?= 5,50,200,1000
REPORT_CITIES ?= 5,25,100,300
.PHONY: bench
bench: $(ENV_STAMP) ## time and memory per stage (SIZES=…) and the report per number of cities (REPORT_CITIES=…) → benchmarks/results.csv
	$(BIN)/python benchmarks/bench.py --sizes=$(SIZES) --report-cities=$(REPORT_CITIES) $(BENCH_ARGS)

.PHONY: screenshots
screenshots: report ## PNG screenshots of the index and one page per notebook (build/screenshots/)
	$(COMPARE) report screenshots

.PHONY: lab
lab: $(PROCESSED_STAMP) ## start JupyterLab in the project's environment, notebooks ready to run
	$(BIN)/jupyter lab --notebook-dir=notebooks

.PHONY: browser
browser: ## install Debian's chromium and a CJK font for the site tests and screenshots (needs root)
	apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk

## ---------------------------------------------------------------- housekeeping

.PHONY: clean
clean: ## remove generated data and build products (keeps .venv and the committed site)
	rm -rf data/processed data/interim build
