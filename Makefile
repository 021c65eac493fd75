# Everything a fresh machine needs; CI runs `make test` through .ci/run.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
EVAL_DATA ?= ../shared/eval

.PHONY: install demo test test-fast bench eval train lint model clean browser schema postgres scale-extras

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# The CPU wheel of torch first: any looser spec pulls several GB of CUDA packages.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev]'
	touch $(STAMP)

model: install
	$(PY) -m divergence models --build --int8 --verify

demo: model
	$(PY) -m divergence cluster fixtures/events
	$(PY) -m divergence analyze fixtures/events --format json --output out/fixtures-analysis.json
	$(PY) -m divergence compare fixtures/events/call-keller-varga
	$(PY) -m divergence ingest fixtures/events --store out/corpus.db
	$(PY) -m divergence events --store out/corpus.db
	$(PY) -m divergence score fixtures/incoming/baltic_daily.txt --store out/corpus.db --no-add
	$(PY) -m divergence analyze fixtures/events --format html --output out/fixtures-report.html
	@if [ -d ../shared/seeds ]; then $(PY) -m divergence analyze ../shared/seeds --format html --output out/seeds-report.html \
		&& echo "HTML report of the seeds written to out/seeds-report.html"; fi
	@echo "HTML report of the fixtures (opens offline) written to out/fixtures-report.html"
	@echo "JSON report of all fixture events written to out/fixtures-analysis.json; corpus store in out/corpus.db"
	@echo "HTTP API: $(PY) -m divergence serve --store out/corpus.db  (OpenAPI at http://127.0.0.1:8000/docs)"

test: model browser postgres scale-extras
	$(PY) -m pytest

# The shipped JSON schemas (report, score) regenerated from the data model after a change to datamodel.py.
schema: install
	$(PY) -c "from divergence.report.render import write_schemas; write_schemas()"

# Headless Chromium for tests/test_browser.py (Debian's chromium); skipped cleanly when not root or not apt.
browser:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
		echo "chromium missing and cannot be installed here (needs root and apt-get): the browser tests will be skipped"; \
	else apt-get update && apt-get install -y chromium || echo "chromium could not be installed: the browser tests will be skipped"; fi

bench: model postgres scale-extras
	$(PY) -m dev.bench

# Refit the same-event model (models/same-event.json) on the fixtures and, when present, BASIL and AllSides, on the
# vectors of both encoder backends (float32 and the int8 build, the default), and the claim judge (models/judge.json)
# on the fixtures, the real-news gold and the training halves of the development sets on float32 vectors (fitted on
# int8 or on both, it lost X-PARADE 0.850 → 0.841 on int8). Each model records them in its fitted_with; a judge
# serves int8 without a W301 warning once `make eval` with DIVERGENCE_ENCODER_BACKEND=onnx-int8 has kept every floor
# and its fitted_with lists "checked_on": ["onnx-int8"] (training never writes it: a refit must be checked again).
train: model
	$(PY) -m dev.train_same_event --data $(EVAL_DATA)
	$(PY) -m dev.train_judge --data $(EVAL_DATA) --backends torch

eval: model
	$(PY) -m dev.evaluate --data $(EVAL_DATA)

# The PostgreSQL server binaries the store tests and the bench start a throwaway cluster with (Debian's package);
# skipped when they are there already, or when not root (the PostgreSQL tests then say they are skipped and why).
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	else echo "postgres: not root, PostgreSQL not installed: its store tests will be skipped"; fi

# The optional extras the tests exercise: psycopg (PostgreSQL store) and Ray (--engine ray).
scale-extras: $(VENV)/.scale-extras
$(VENV)/.scale-extras: $(STAMP)
	$(PIP) install --quiet -e '.[postgres,ray]'
	touch $@

lint: install
	$(VENV)/bin/ruff check divergence tests fixtures

clean:
	rm -rf $(VENV) .cache out models/multilingual-e5-small test-artifacts
