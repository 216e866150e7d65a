# Two commands set up a fresh machine: `make run` (the API with the examples, dev mode) and `make test`.
# Both install the exact versions pinned, with hashes, in requirements.lock (only pip is needed);
# `make upgrade` re-resolves that lock to the newest releases on purpose and runs the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCK := requirements.lock
TOOLS := .venv-tools
UV_VERSION := 0.13.9
# Universal (every platform, Python 3.11+), one version per package where one fits every Python.
COMPILE := $(TOOLS)/bin/uv pip compile pyproject.toml build-requirements.in --extra dev \
	--universal --fork-strategy fewest --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' --quiet

.PHONY: run test lint lock upgrade schema bench bench-api clean

$(STAMP): pyproject.toml $(LOCK)
	python3 -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --no-index -e .
	$(PY) -m pip check
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/budgetopt serve --dev --examples scenarios

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

$(TOOLS)/bin/uv:
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)

# Re-resolve the lock for a changed pyproject.toml, keeping every other pin where it is.
lock: $(TOOLS)/bin/uv
	$(COMPILE) -o $(LOCK)

# Try the newest releases of everything (a new HiGHS, say): rewrite the lock, reinstall, test.
upgrade: $(TOOLS)/bin/uv
	$(COMPILE) --upgrade -o $(LOCK)
	$(MAKE) test

schema: $(STAMP)
	$(VENV)/bin/budgetopt schema --out scenarios/scenario.schema.json

bench: $(STAMP)
	$(PY) benchmarks/bench_solve.py --solvers highs,highs-direct,cbc

bench-api: $(STAMP)
	$(PY) benchmarks/bench_api.py --runs 20

clean:
	rm -rf $(VENV) $(TOOLS) build *.egg-info
