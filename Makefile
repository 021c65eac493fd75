# Everything a fresh machine needs; CI runs `make test` through .ci/run.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
EVAL_DATA ?= ../shared/eval

.PHONY: install demo test test-fast bench eval lint model clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# The CPU wheel of torch first: any looser spec pulls several GB of CUDA packages.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev]'
	touch $(STAMP)

model: install
	$(PY) -m divergence models --build --verify

demo: model
	$(PY) -m divergence compare fixtures/events/call-keller-varga
	$(PY) -m divergence compare fixtures/events/geneva-ministers --format json --output out/geneva-ministers.json
	@echo "JSON report written to out/geneva-ministers.json"

test: model
	$(PY) -m pytest

bench: model
	$(PY) -m divergence.bench

eval: model
	$(PY) -m divergence.evaluate --data $(EVAL_DATA)

lint: install
	$(VENV)/bin/ruff check divergence tests fixtures

clean:
	rm -rf $(VENV) .cache out models/multilingual-e5-small
