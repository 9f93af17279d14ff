# Two commands do all set-up on a fresh machine:
#   make run    install into .venv and run the daemon (imports seeds/ on first start)
#   make test   install into .venv, then lint, type-check and run every test
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test quick-test lint install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/monitor run

lint: $(STAMP)
	$(BIN)/ruff check monitor tests bench
	$(BIN)/ruff format --check monitor tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

quick-test: $(STAMP)
	$(BIN)/pytest -q -m 'not slow'

# Benchmarks (needs nginx and wrk: apt-get install nginx-light wrk); prints a table and
# writes bench/out/results.json.
bench: $(STAMP)
	@command -v nginx >/dev/null || command -v /usr/sbin/nginx >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq nginx-light wrk)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV)
