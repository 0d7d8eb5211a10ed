# Every target runs inside .venv at the repository root, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements*.txt */requirements.txt 2>/dev/null | cksum | cut -d' ' -f1)
MODEL ?= blazepose-full
PORT ?= 8080
DOCKERFILES := $(wildcard */Dockerfile)

.PHONY: help install models test lint format demo bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)  ## create .venv with pinned runtime and dev dependencies

models: $(STAMP)  ## fetch and verify the default model into the cache
	$(BIN)/python -m inference fetch $(MODEL)

test: $(STAMP) models  ## run the whole test suite
	$(BIN)/python -m pytest

lint: $(STAMP)  ## ruff, black --check and hadolint
	$(BIN)/ruff check .
	$(BIN)/black --check --quiet .
	$(BIN)/hadolint $(DOCKERFILES)

format: $(STAMP)  ## apply black and ruff's safe fixes
	$(BIN)/black --quiet .
	$(BIN)/ruff check --fix --quiet .

demo: $(STAMP) models  ## serve the default model on 127.0.0.1:$(PORT)
	$(BIN)/python -m inference serve --model $(MODEL) --host 127.0.0.1 --port $(PORT)

bench: $(STAMP) models  ## run the benchmarks (prints ratios)
	$(BIN)/python benchmarks/serve_bench.py

clean:  ## remove .venv and caches (not the model cache)
	rm -rf $(VENV) .pytest_cache .ruff_cache
