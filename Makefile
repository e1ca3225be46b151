# reelmark. The two commands the README opens with, each doing all set-up on a fresh machine first:
#   make run    the main job on the embedded default: demo clip → daemon → signals analysis → OTIO + FCP7 XML
#   make test   the test suite
# Set-up makes .venv with Python >= 3.11, installs torch (TORCH_SPEC; the CPU build on machines without a GPU,
# see README), then reelmark in editable mode with its test extras. It re-runs when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
# Without a GPU outside our machines: make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
STAMP := $(VENV)/.reelmark-installed

.PHONY: setup run test bench bench-ingest bench-signals clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "reelmark needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e ".[test,cluster]"
	touch $@

run: setup
	$(BIN)/reelmark demo --output-dir build/demo

# pytest exits 5 when it collects nothing: report that as the failure it is.
test: setup
	@$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$status

bench: bench-ingest bench-signals

bench-ingest: setup
	$(BIN)/python tests/bench/ingest.py

# PySceneDetect is the anchor, installed for the bench only; --no-deps keeps its opencv-python off our headless one.
bench-signals: setup
	$(BIN)/python -m pip install --quiet --no-deps "scenedetect==0.7.2"
	$(BIN)/python tests/bench/signals.py

clean:
	rm -rf $(VENV) build dist *.egg-info

.PHONY: protos bench-daemon premiere-package premiere-colours bench-grounding bench-prefill bench-decode bench-sparse-accuracy

# The daemon's API: regenerate core/api/v1 from protos/ (tests/test_protos.py fails when it is stale).
protos: setup
	$(BIN)/python -m reelmark.core.api.generate

# 50 concurrent cached look-ups plus 5 analyses against a daemon subprocess; p50/p99, errors, RSS.
bench-daemon: setup
	$(BIN)/python tests/bench/daemon.py

# The Premiere panel: build/reelmark-premiere-<version>.ccx, and its colour table regenerated from reelmark.bridge.colours.
premiere-package: setup
	$(BIN)/python plugin/premiere/tools/package.py

premiere-colours: setup
	$(BIN)/python plugin/premiere/tools/export_colours.py

# The vlm engine and the decode kernels (GPU figures need a GPU; without one these run their CPU smoke modes).
bench-grounding: setup
	$(BIN)/python tests/bench/grounding.py

bench-prefill: setup
	$(BIN)/python tests/bench/prefill.py --shape small --device cpu --tokens 4096,8192,16384 --chunk 512

bench-decode: setup
	$(BIN)/python tests/bench/decode_attention.py $(if $(shell $(BIN)/python -c 'import torch; print(torch.cuda.is_available() or "")'),,--cpu-smoke)

bench-sparse-accuracy: setup
	$(BIN)/python tests/bench/sparse_accuracy.py $(if $(shell $(BIN)/python -c 'import torch; print(torch.cuda.is_available() or "")'),,--cpu-smoke)
