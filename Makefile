# `make export` and `make test` work from a fresh clone: both create .venv when it is missing.
# Two architectures train and export side by side: most of their time is per-step Python
# work on one core, so on 2 cores -j2 takes make export from 5m50s to 3m28s here.
# No --output-sync: every mode of it holds a command's output until that command ends
# (=line too: it syncs per recipe line, and a recipe line is a whole `edgeseq train`), so
# `make test` printed nothing for minutes. Unsynced, two jobs' lines interleave, but each
# line is whole and names its architecture.
MAKEFLAGS += --jobs=2
# Two trainings redrawing rich's live bars on one terminal would overwrite each other:
# under make, training prints one line per epoch instead (edgeseq/training.py).
export EDGESEQ_PROGRESS := lines

PYTHON ?= python3
# The training seed of `make export` (edgeseq train --seed): a fresh export must pass its own
# check whatever the draw, so CI and the seed sweep in the README run it with others too.
SEED   ?= 0
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-train
# One builder module per architecture, named as the architecture: no list to keep here.
ARCHS  := $(basename $(notdir $(filter-out %/__init__.py,$(wildcard edgeseq/architectures/*.py))))
# Every quantized variant; each is kept only if it passes its gate (int16x8 is attempted and
# reported: the converter does not support it for fused LSTMs).
QUANTIZE := -q float16 -q dynamic -q int8 -q int16x8

# onnxruntime-web's dist files for `edgeseq web` (package.json pins the version). npm ci
# removes node_modules first, so the stamp is npm's own record of the install.
NODE_STAMP := node_modules/.package-lock.json

DEVICE_VENV     := .venv-device
DEVICE_STAMP    := $(DEVICE_VENV)/.installed
DEVICE_EXPORTS  := build/device-exports

.PHONY: export check-export test test-device lint docs clean-exported
.DELETE_ON_ERROR:
# model.keras is an intermediate of the pattern chain: keep it, it is the trained model.
.PRECIOUS: exported/%/model.keras

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,dev,openvino,mcu,web,docs]'
	touch $@

# Retrain only when the architecture's builder or a problem changed; re-export when any
# of the package's code changed (conversion and parity are cheap next to training).
# --force: retraining replaces the model the previous export was made from, on purpose;
# the manifest rule below re-exports it at once.
exported/%/model.keras: edgeseq/architectures/%.py $(wildcard edgeseq/problems/*.py) | $(STAMP)
	$(BIN)/edgeseq train $* --force --seed $(SEED)

exported/%/manifest.json: exported/%/model.keras $(shell find edgeseq -name '*.py') | $(STAMP)
	$(BIN)/edgeseq export $* $(QUANTIZE)

export: $(ARCHS:%=exported/%/manifest.json)
	$(BIN)/edgeseq parity --recorded $(ARCHS:%=exported/%)

# Every trained export against Keras itself on fresh inputs, as a new user would check it
# after `make export` (issue 21: a fresh export must pass its own check).
check-export: export
	$(BIN)/edgeseq parity --reference keras $(ARCHS:%=exported/%)

$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest -q

# The device install: `pip install .` with no extras (no TensorFlow), plus pytest to test it.
$(DEVICE_STAMP): pyproject.toml $(shell find edgeseq -name '*.py')
	test -x $(DEVICE_VENV)/bin/python || $(PYTHON) -m venv $(DEVICE_VENV)
	$(DEVICE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DEVICE_VENV)/bin/python -m pip install --quiet . pytest
	$(DEVICE_VENV)/bin/python -m pip install --quiet --force-reinstall --no-deps .
	touch $@

# Exports are made in the training venv; the device venv only runs them. -P and importlib
# mode keep the checkout off sys.path, so the tests exercise the installed package.
test-device: $(DEVICE_STAMP) $(STAMP)
	$(BIN)/python tools/device_fixtures.py $(DEVICE_EXPORTS)
	EDGESEQ_DEVICE_EXPORTS=$(abspath $(DEVICE_EXPORTS)) $(DEVICE_VENV)/bin/python -P -m pytest \
	  -q -p no:cacheprovider --import-mode=importlib tests/device
	@du -sh $(VENV) $(DEVICE_VENV) | sed 's/^/venv size: /'

lint: $(STAMP)
	$(BIN)/ruff check edgeseq tests tools

# The docs site, offline and strict (a warning, a broken link or anchor fails it): build/site.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/site

clean-exported:
	rm -rf $(ARCHS:%=exported/%)
