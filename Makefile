# Two commands set up a fresh machine: `make run` (the API with the examples, dev mode) and `make test`.
# Both install the exact versions pinned, with hashes, in requirements.lock (pip) and the page's
# front-end files pinned in api/web/package-lock.json (npm ci; Node.js and npm must be installed);
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

.PHONY: run test browser lint lock upgrade schema bench bench-api clean

WEB := api/web
WEB_STAMP := $(WEB)/node_modules/.installed

$(STAMP): pyproject.toml $(LOCK)
	python3 -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --no-index -e .
	$(PY) -m pip check
	touch $(STAMP)

run: $(STAMP) $(WEB_STAMP)
	$(VENV)/bin/budgetopt serve --dev --examples scenarios

test: $(STAMP) $(WEB_STAMP)
	@command -v chromium >/dev/null || [ -x "$$BUDGETOPT_CHROMIUM" ] || $(MAKE) browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

# The page's scripts, styles and fonts, and Swagger UI / ReDoc: served by the service, never a CDN.
$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to install the page's files (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	npm ci --prefix $(WEB) --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

# The page's end-to-end tests drive Debian's Chromium (Playwright's own browser download is not
# used); installed here when missing, so those tests fail rather than skip without it.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	$(SUDO) apt-get install -y --no-install-recommends chromium \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

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
	rm -rf $(VENV) $(TOOLS) build *.egg-info $(WEB)/node_modules
