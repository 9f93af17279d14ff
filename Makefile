# Two commands do all set-up on a fresh machine:
#   make run    install into .venv and run the daemon (imports seeds/ on first start)
#   make test   install into .venv with the dev tools, then lint, type-check and run every test
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
CODE := monitor tests bench support

.PHONY: run test quick-test lint browser install install-dev bench clean

$(BIN)/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The daemon needs the runtime dependencies only.
$(RUNTIME): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e .
	touch $(RUNTIME)

# Tests, linters and type checks need the pinned dev tools too.
$(DEV): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV) $(RUNTIME)

install: $(RUNTIME)

install-dev: $(DEV)

run: $(RUNTIME)
	$(BIN)/monitor run

lint: $(DEV)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint browser
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest -q

# The browser tests render pages in Debian's chromium (installed here when apt can;
# without it they are skipped, saying why).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei) || \
		echo "chromium not installed (needs root): the browser tests will be skipped"

quick-test: $(DEV)
	$(BIN)/pytest -q -m 'not slow'

# Benchmarks (needs nginx and wrk: apt-get install nginx-light wrk); prints a table and
# writes bench/out/results.json.
bench: $(DEV)
	@command -v nginx >/dev/null || command -v /usr/sbin/nginx >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq nginx-light wrk)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV)
