# The helpdesk's commands. Quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
# The address in the links of emails `make run` sends: follows PORT unless given (BASE_URL=...).
BASE_URL ?= http://127.0.0.1:$(PORT)
PYTEST := $(BIN)/pytest -p no:cacheprovider

.PHONY: install run token test lint test-sqlite test-postgres system-deps node-deps test-browser screenshots migrations bench bench-compare bench-live bench-attachments drill clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

# config.toml defaults to production (fail closed); these targets run on your own machine.
run token migrations: export HELPDESK_ENV ?= development

run: install
	mkdir -p var
	$(BIN)/helpdesk migrate
	$(BIN)/helpdesk seed-demo --if-empty --tickets 2000
	@echo "Demo logins (password demo-password): admin@example.com (admin), priya@example.com (agent),"
	@echo "acme@customer.example (customer of Acme). API token: make token EMAIL=admin@example.com"
	@echo "Serving $(BASE_URL). Emails the app sends are printed below (decoded) by a mail sink on 127.0.0.1:8025."
	$(BIN)/python -m aiosmtpd -n -l 127.0.0.1:8025 -c helpdesk.mail_sink.PrintingHandler & sink=$$!; \
		trap 'kill $$sink 2>/dev/null' EXIT INT TERM; HELPDESK_BASE_URL=$(BASE_URL) $(BIN)/helpdesk serve --port $(PORT)

token: install
	@$(BIN)/helpdesk create-token --email $(EMAIL)

test: install system-deps node-deps lint test-sqlite test-postgres test-browser

system-deps:
	.ci/system-deps

# Dredd (the API contract check) comes from npm, pinned by package-lock.json.
node-deps: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-sqlite: install
	HELPDESK_TEST_DB=sqlite $(PYTEST) -q

test-postgres: install
	HELPDESK_TEST_DB=postgres $(PYTEST) -q

# Chromium through Playwright against a live server, in a run of its own: sync Playwright and
# pytest-asyncio cannot share one, so this run leaves out the asyncio plugin and the root conftest.
test-browser: install
	HELPDESK_BROWSER_TESTS=1 $(PYTEST) -q -p no:asyncio -W ignore::pytest.PytestConfigWarning \
		--confcutdir=tests/browser tests/browser

# Refresh the screenshots the README shows from the last browser run (test-output/browser/).
screenshots: test-browser
	mkdir -p test-output/screenshots
	cp test-output/browser/*.png test-output/screenshots/

# After changing models: write the next migration (commit it, never edit it after it lands).
migrations: install
	$(BIN)/tortoise -c helpdesk.db.TORTOISE_ORM makemigrations

# Load test of a live `helpdesk serve` (not part of `make test`); see README "Benchmarks".
# REUSE=1 keeps the seeded SQLite file in var/bench/ and reuses it on the next run.
N ?= 100000
DB ?= sqlite
WORKERS ?= 1 2
DURATION ?= 10
CONNECTIONS ?= 16
bench: install
	DB=$(DB) bench/system-deps
	N=$(N) DB=$(DB) WORKERS="$(WORKERS)" DURATION=$(DURATION) CONNECTIONS=$(CONNECTIONS) $(BIN)/python -m bench.run

# This checkout against an earlier commit (BEFORE=<commit>), both served at once, each scenario
# alternating between them (bench/compare.py): a change of 10% shows on a machine that drifts by 30%.
ROUNDS ?= 3
bench-compare: install
	DB=sqlite bench/system-deps
	BEFORE=$(BEFORE) N=$(N) ROUNDS=$(ROUNDS) DURATION=$(if $(filter command line environment,$(origin DURATION)),$(DURATION),5) \
		CONNECTIONS=$(CONNECTIONS) $(BIN)/python -m bench.compare

# Live streams (not part of `make test`): STREAMS open streams on LIVE_WORKERS processes, memory per
# stream and the time from a write to its event on every stream (README "Benchmarks").
STREAMS ?= 1000
LIVE_WORKERS ?= 2
bench-live: install
	DB=$(DB) bench/system-deps
	N=$(if $(filter command line environment,$(origin N)),$(N),1000) DB=$(DB) STREAMS=$(STREAMS) \
		LIVE_WORKERS=$(LIVE_WORKERS) $(BIN)/python -m bench.live

# A 100 MB attachment up and down through a live server: time, and the server's RSS growth (goal
# under 50 MB: uploads are spooled to disk, downloads streamed). SIZE_MB=... for another size.
bench-attachments: install
	$(BIN)/python -m bench.attachments

# Crash drill (not part of `make test`): kill -9 `helpdesk serve` every 2-4 s under mixed writes,
# then count acknowledged / lost / duplicated / unanswered / 4xx / 5xx (README "Failures").
# DURATION defaults to 30 s here; WORKERS and DB as for bench.
drill: install
	DB=$(DB) WORKERS="$(WORKERS)" \
		DURATION=$(if $(filter command line environment,$(origin DURATION)),$(DURATION),30) \
		$(BIN)/python -m bench.drill

clean:
	rm -rf $(VENV) var .pytest_cache node_modules
