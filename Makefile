# The README's two commands. Both create .venv when needed and install what they use;
# the stamp files make them cheap to run again (reinstall only when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PHONES ?= 30
# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run simulate test bench lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-stamp

$(CHROMIUM):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
	  || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	       apt-get install -y --no-install-recommends chromium; }

# The demo film: generated once at set-up into the media folder `kinoroom serve` reads
# (KINOROOM_MEDIA_DIR, default KINOROOM_DATA_DIR/media); clips already made are skipped.
KINOROOM_DATA_DIR ?= .kinoroom
MEDIA_DIR := $(or $(KINOROOM_MEDIA_DIR),$(KINOROOM_DATA_DIR)/media)
FILM_SOURCES := narrative/stories/demo.yaml $(wildcard mobile_bridge/demo_*.py) mobile_bridge/renditions.py

$(MEDIA_DIR)/manifest.json: $(FILM_SOURCES) | $(VENV)/.run-stamp
	$(BIN)/kinoroom film demo --media $(MEDIA_DIR)
	touch $@

run: $(VENV)/.run-stamp $(MEDIA_DIR)/manifest.json
	$(BIN)/kinoroom serve

simulate: $(VENV)/.run-stamp
	$(BIN)/kinoroom story simulate --phones $(PHONES)

test: $(VENV)/.test-stamp $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/mypy
	PYTHONASYNCIODEBUG=1 $(BIN)/pytest  # asyncio debug mode reports slow callbacks

bench: $(VENV)/.run-stamp
	$(BIN)/python bench/core.py

lint: $(VENV)/.test-stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
