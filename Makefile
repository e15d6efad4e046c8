# `make export` and `make test` work from a fresh clone: both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-train
ARCHS  := vanilla stacked cnn_lstm encoder_decoder bidirectional generative
# Every quantized variant; each is kept only if it passes its gate (int16x8 is attempted and
# reported: the converter does not support it for fused LSTMs).
QUANTIZE := -q float16 -q dynamic -q int8 -q int16x8

.PHONY: export test lint clean-exported
.DELETE_ON_ERROR:
# model.keras is an intermediate of the pattern chain: keep it, it is the trained model.
.PRECIOUS: exported/%/model.keras

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,dev]'
	touch $@

# Retrain only when the architecture's builder or a problem changed; re-export when any
# of the package's code changed (conversion and parity are cheap next to training).
exported/%/model.keras: edgeseq/architectures/%.py $(wildcard edgeseq/problems/*.py) | $(STAMP)
	$(BIN)/edgeseq train $*

exported/%/manifest.json: exported/%/model.keras $(shell find edgeseq -name '*.py') | $(STAMP)
	$(BIN)/edgeseq export $* $(QUANTIZE)

export: $(ARCHS:%=exported/%/manifest.json)
	$(BIN)/edgeseq parity $(ARCHS:%=exported/%)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check edgeseq tests tools

clean-exported:
	rm -rf $(ARCHS:%=exported/%)
