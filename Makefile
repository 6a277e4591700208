# luopan — the four everyday targets. Each one creates or refreshes .venv/ first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DIR ?= demo-world
PYTEST_ARGS ?=

.PHONY: setup demo serve test bench lint docs clean

$(STAMP): pyproject.toml requirements-forecast.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,db,spark,listening,docs]'
	$(BIN)/python -m pip install -q --no-deps -r requirements-forecast.txt
	@touch $(STAMP)

setup: $(STAMP)

DEMO_USER ?= demo
DEMO_PASSWORD ?= luopan-demo

demo: setup  # build the world, ingest it, one pass of the loop over its history, the crisis watch, a cockpit login
	$(BIN)/luopan demo $(DEMO_DIR) --force
	$(BIN)/luopan run -w $(DEMO_DIR) --no-ingest --backfill
	$(BIN)/luopan listening watch -w $(DEMO_DIR) --open
	$(BIN)/luopan decisions list -w $(DEMO_DIR)
	LUOPAN_DEMO_PASSWORD='$(DEMO_PASSWORD)' $(BIN)/luopan users add $(DEMO_USER) --role admin \
		--password-env LUOPAN_DEMO_PASSWORD --replace -w $(DEMO_DIR)
	@echo ""
	@echo "cockpit / 驾驶舱:  $(BIN)/luopan serve -w $(DEMO_DIR)   then open http://127.0.0.1:8710/"
	@echo "login / 登录:      $(DEMO_USER) / $(DEMO_PASSWORD)"
	@echo "run report / 运行报告: $$(ls -t $(DEMO_DIR)/reports/*.md 2>/dev/null | head -1)"

serve: setup  # the cockpit and API on the demo world (make demo first)
	$(BIN)/luopan serve -w $(DEMO_DIR)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

BENCH ?= $(basename $(notdir $(wildcard benchmarks/*.py)))

bench: setup  # every benchmark (or BENCH="ingest rca"); each records its section of RESULTS.md
	$(BIN)/python -m pip install -q -e '.[dev,db,spark,listening,bench]'
	@set -e; for b in $(BENCH); do echo "== benchmarks/$$b.py"; $(BIN)/python benchmarks/$$b.py; done

docs: setup  # the zh-CN/en documentation site, built offline into site/
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO_DIR) site .pytest_cache .mypy_cache .ruff_cache
