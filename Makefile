# luopan — the four everyday targets. Each one creates or refreshes .venv/ first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DIR ?= demo-world
PYTEST_ARGS ?=

.PHONY: setup demo test bench lint clean

$(STAMP): pyproject.toml requirements-forecast.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,db,spark,listening,docs]'
	$(BIN)/python -m pip install -q --no-deps -r requirements-forecast.txt
	@touch $(STAMP)

setup: $(STAMP)

demo: setup  # build the world, ingest it, then one pass of the loop over its whole history
	$(BIN)/luopan demo $(DEMO_DIR) --force
	$(BIN)/luopan run -w $(DEMO_DIR) --no-ingest --backfill
	$(BIN)/luopan decisions list -w $(DEMO_DIR)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

BENCH ?= $(basename $(notdir $(wildcard benchmarks/*.py)))

bench: setup  # every benchmark (or BENCH="ingest rca"); each records its section of RESULTS.md
	$(BIN)/python -m pip install -q -e '.[dev,db,spark,listening,bench]'
	@set -e; for b in $(BENCH); do echo "== benchmarks/$$b.py"; $(BIN)/python benchmarks/$$b.py; done

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
