# Two commands do all set-up on a fresh machine:
#   make run    install into .venv and run the daemon (imports seeds/ on first start)
#   make test   install into .venv, then lint, type-check and run every test
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test quick-test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/monitor run

lint: $(STAMP)
	$(BIN)/ruff check monitor tests
	$(BIN)/ruff format --check monitor tests
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

quick-test: $(STAMP)
	$(BIN)/pytest -q -m 'not slow'

clean:
	rm -rf $(VENV)
