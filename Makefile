# Folio — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test test-services e2e lint format migrate worker scheduler clean

$(BIN)/activate: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/activate

$(VENV)/.dev: $(BIN)/activate requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.dev

## run: install, migrate the SQLite database, load the demo member, serve on 127.0.0.1:5000
run: $(BIN)/activate
	FOLIO_ENV=development $(BIN)/flask db upgrade
	FOLIO_ENV=development $(BIN)/flask seed-demo
	@echo "Folio is starting on http://127.0.0.1:5000 (mails: http://127.0.0.1:5000/dev/outbox)"
	FOLIO_ENV=development $(BIN)/flask run --host 127.0.0.1 --port 5000

## test: the whole suite on SQLite (browser tests run when Chromium is installed)
test: $(VENV)/.dev
	$(BIN)/python -m pytest

## test-services: the suite on the local PostgreSQL and Redis, with a real rq worker
test-services: $(VENV)/.dev
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://127.0.0.1:5432/test} \
	TEST_REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/15} \
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check webapp tests bench
	$(BIN)/ruff format --check webapp tests bench

format: $(VENV)/.dev
	$(BIN)/ruff format webapp tests
	$(BIN)/ruff check --fix webapp tests

## migrate: create a migration after changing models (make migrate m="what changed")
migrate: $(BIN)/activate
	FOLIO_ENV=development $(BIN)/flask db migrate -m "$(m)"

## worker: an rq worker for background jobs (needs REDIS_URL)
worker: $(BIN)/activate
	$(BIN)/flask worker

## scheduler: enqueue periodic jobs when due (needs REDIS_URL; run one, beside the workers)
scheduler: $(BIN)/activate
	$(BIN)/flask scheduler

clean:
	rm -rf $(VENV) instance .pytest_cache
