# Quick start: `make demo` (watch a built-in newsroom) and `make test` (the test suite).
# Both create .venv when missing and install the package with its pinned dependencies.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-scale bench-latency bench-shared bench-cluster bench-claims check clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/newsmonitor demo

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy monitor
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/feed_corpus.py
	$(BIN)/python -m bench.extraction
	$(BIN)/python -m bench.diff
	$(BIN)/python -m bench.seeds
	$(BIN)/python -m bench.pipeline
	$(BIN)/python -m bench.daemon_idle
	$(BIN)/python -m bench.real_feeds
	$(BIN)/python -m bench.web
	$(BIN)/python -m bench.evidence

bench-scale: $(STAMP)
	bench/run

bench-latency: $(STAMP)
	bench/run --hosts 50 --latency-ms 50

bench-shared: $(STAMP)
	$(BIN)/python -m bench.shared_store

bench-cluster: $(STAMP)
	$(BIN)/python -m bench.cluster

bench-claims: $(STAMP)
	$(BIN)/python -m bench.claims

check: $(STAMP)
	$(BIN)/newsmonitor check

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .grimp_cache
