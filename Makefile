# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test setup install migrate demo lint types pytest openapi openapi-check consumers \
	client-python client-typescript schemathesis docs-browser bench soak clean

# The worker (jobs, feed polling, scheduled publishing) runs beside the web server;
# Ctrl-C stops both.
run: setup ## Install, migrate, load demo content, serve on http://127.0.0.1:5000 with a worker
	@CMS_ENV=development $(FLASK) cms worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	CMS_ENV=development $(FLASK) run --host 127.0.0.1 --port 5000

test: setup lint types openapi-check pytest ## Set up, then lint, types and the whole suite

setup: migrate demo

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

migrate: install
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) cms load-demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy cms

pytest: install
	$(BIN)/pytest -q $(PYTEST_ARGS)

openapi: install ## Regenerate the committed OpenAPI document
	$(FLASK) openapi write --format=json openapi/openapi.json

openapi-check: install ## Fail when openapi/openapi.json is out of date
	$(FLASK) openapi write --format=json $(VENV)/openapi.json
	cmp -s $(VENV)/openapi.json openapi/openapi.json || \
	  (echo "openapi/openapi.json is out of date: run 'make openapi' and commit it" && exit 1)

consumers: client-python client-typescript schemathesis docs-browser ## The API's real consumers (CI runs them)

client-python: install ## A generated Python client runs an editor's day; mypy --strict on it
	$(BIN)/python -m tests.consumers.python_client.run

client-typescript: install ## Types from openapi-typescript; a frontend module passes tsc --strict
	cd tests/consumers/typescript && npm ci --no-audit --no-fund --silent \
	  && npm run -s generate >/dev/null && npm run -s check

schemathesis: install ## Every operation, every check, as admin and anonymous: zero failures
	$(BIN)/python -m tests.consumers.schemathesis_run $(SCHEMATHESIS_ARGS)

docs-browser: install ## /docs and /redoc in headless Chromium, offline; screenshots as artifacts
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m tests.consumers.browser.check_docs $(DOCS_BROWSER_ARGS)

bench: install ## Throughput benchmark (not part of the tests): BENCH_ARGS="--articles 10000"
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.run $(BENCH_ARGS) --only search --search-cache off
	$(BIN)/python -m bench.writes $(BENCH_ARGS)

soak: install ## Bounded mixed read/write load on gunicorn; fails on errors or RSS growth
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache tests/consumers/typescript/node_modules
