# Two commands set up a fresh machine: `make run` (the API with the examples, dev mode) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint schema bench bench-api clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/budgetopt serve --dev --examples scenarios

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

schema: $(STAMP)
	$(VENV)/bin/budgetopt schema --out scenarios/scenario.schema.json

bench: $(STAMP)
	$(PY) benchmarks/bench_solve.py --solvers highs,highs-direct,cbc

bench-api: $(STAMP)
	$(PY) benchmarks/bench_api.py --runs 20

clean:
	rm -rf $(VENV) build *.egg-info
