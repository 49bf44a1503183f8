# The two commands of the README: `make run` and `make test`; `make test-fast` is the
# edit-test loop (the tests that run inside pytest's process, no consumer or browser).
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

.PHONY: run test test-fast deps install screenshots bench clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests use (chromium, nginx, supervisor, poppler-utils, ...).
deps:
	sh scripts/install-debian-packages.sh

run: $(STAMP)
	$(BIN)/marketplace run

test: $(STAMP) deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not consumer and not browser" $(PYTEST_ARGS)

# The README's pictures (docs/screenshots/), taken from the demo shop in chromium.
screenshots: $(STAMP) deps
	SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/test_screenshots.py -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) *.egg-info build dist
