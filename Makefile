# Every target runs inside .venv at the repository root, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements*.txt */requirements.txt 2>/dev/null | cksum | cut -d' ' -f1)
MODEL ?= blazepose-heavy
PORT ?= 8080
DOCKERFILES := $(wildcard */Dockerfile)

.PHONY: help install models test lint format demo serve bench images image-test pipeline-test clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)  ## create .venv with pinned runtime and dev dependencies

models: $(STAMP)  ## fetch and verify the default model, and blazepose-full the tests also run, into the cache
	$(BIN)/python -m inference fetch $(MODEL)
	$(BIN)/python -m inference fetch blazepose-full

test: $(STAMP) models  ## run the whole test suite
	$(BIN)/python -m pytest

WORKFLOWS := $(wildcard .github/workflows/*.yml)

lint: $(STAMP)  ## ruff, black --check, hadolint and the GitHub workflow linters
	$(BIN)/ruff check .
	$(BIN)/black --check --quiet .
	$(BIN)/hadolint $(DOCKERFILES)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(BIN)/actionlint $(WORKFLOWS)
	$(BIN)/zizmor --offline --no-progress --quiet $(WORKFLOWS)

format: $(STAMP)  ## apply black and ruff's safe fixes
	$(BIN)/black --quiet .
	$(BIN)/ruff check --fix --quiet .

demo: $(STAMP)  ## the whole system offline: model server, data capture, monitoring, web page
	$(BIN)/python -m deployment local

serve: $(STAMP) models  ## only the inference server, on 127.0.0.1:$(PORT)
	$(BIN)/python -m inference serve --model $(MODEL) --host 127.0.0.1 --port $(PORT)

bench: $(STAMP) models  ## run the benchmarks (each prints ratios measured side by side)
	$(BIN)/python benchmarks/serve_bench.py
	$(BIN)/python benchmarks/capture_bench.py
	$(BIN)/python benchmarks/monitor_bench.py
	$(BIN)/python benchmarks/accuracy.py
	$(BIN)/python benchmarks/decode_bench.py
	$(BIN)/python benchmarks/bulk_bench.py
	$(BIN)/python benchmarks/multi_model_bench.py

# The first container engine that answers (a docker client with no daemon does not).
ENGINE ?= $(shell for engine in podman docker; do $$engine info >/dev/null 2>&1 && echo $$engine && break; done)

images:  ## build both images (podman, or docker) from the repository root
	$(ENGINE) build -f inference/Dockerfile -t pose-inference .
	$(ENGINE) build -f monitoring/Dockerfile -t pose-monitoring .

image-test: $(STAMP) models  ## build both images and run them as SageMaker does (podman/docker; a debootstrap base offline)
	POSE_IMAGE_TESTS=1 $(BIN)/python -m pytest tests/images

pipeline-test: $(STAMP) models  ## run the workflow files with act against fake AWS (moto) and GitHub
	POSE_PIPELINE_TESTS=1 $(BIN)/python -m pytest tests/pipeline

clean:  ## remove .venv and caches (not the model cache)
	rm -rf $(VENV) .pytest_cache .ruff_cache
