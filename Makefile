# The two commands: `make run` and `make test`. Everything else here serves them.
# The first of these that runs (a pyenv shim of a version not selected does not).
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do $$p -c '' 2>/dev/null && command -v $$p && break; done)
VENV ?= .venv
BIN := $(VENV)/bin
TRANSLATIONS := mediation/translations
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-browser install translations static messages lint clean bench lighthouse

# The scheduler runs beside the server, so that the demo's jobs run; when the server stops
# (Ctrl-C, or it cannot start) the trap stops the scheduler too.
run: $(VENV)/.run-deps translations static
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load --if-empty
	@echo "Serving on http://$(HOST):$(PORT) with the scheduled jobs running — stop both with Ctrl-C"
	$(BIN)/flask scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: $(VENV)/.test-deps translations
	$(BIN)/pytest $(PYTEST_ARGS)

# The benchmark of issue #8 (bench/run.py; installs Debian's wrk if it is missing):
#   make bench [CASES=N] [DATABASE_URL=postgresql+psycopg://…] [BENCH_ARGS="--quick --no-fail …"]
CASES ?= 1000000
bench: $(VENV)/.test-deps translations
	$(BIN)/python -m bench.run --cases $(CASES) $(BENCH_ARGS)

# Lighthouse on the party's pages (issue #25; bench/lighthouse.py): a measurement, not a test.
# Lighthouse, at the version of bench/lighthouse/package-lock.json, goes into its node_modules.
LIGHTHOUSE := bench/lighthouse
lighthouse: $(VENV)/.run-deps translations $(LIGHTHOUSE)/node_modules/.package-lock.json
	$(BIN)/python -m bench.lighthouse $(LIGHTHOUSE_ARGS)

$(LIGHTHOUSE)/node_modules/.package-lock.json: $(LIGHTHOUSE)/package.json $(LIGHTHOUSE)/package-lock.json
	@command -v npm >/dev/null || { echo "make lighthouse needs Node.js and npm (Debian: nodejs, npm)"; exit 1; }
	cd $(LIGHTHOUSE) && npm ci --no-audit --no-fund

install: $(VENV)/.run-deps

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null || \
		{ echo "This needs Python 3.11, 3.12 or 3.13 ($(PYTHON) is $$($(PYTHON) -V 2>&1)): run make $(MAKECMDGOALS) PYTHON=python3.11 (or 3.12, 3.13)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-deps: requirements.txt requirements-dev.txt $(VENV)/.run-deps
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The static files under hashed names, with their gzip and Brotli copies (build/static).
static: $(VENV)/.run-deps
	$(BIN)/flask static build

translations: $(VENV)/.run-deps
	$(BIN)/pybabel compile -d $(TRANSLATIONS) 2>&1 | grep -v '^compiling' || true
	test -f $(TRANSLATIONS)/zh_Hans_CN/LC_MESSAGES/messages.mo

# For developers: collect new strings into the catalogues (then translate them).
messages: $(VENV)/.run-deps
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -N -w 100 -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache build $(LIGHTHOUSE)/node_modules
