# Two commands on a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-slow lint wheel-check compare corpus clean labelstudio labelstudio-install bench-serve bench-guard pretrain

# The venv is (re)built when pyproject.toml changes. torch is installed first, pinned, so that no
# dependency resolution can reach for a CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,ray,openvino]'
	touch $(STAMP)

install: $(STAMP)

corpus: install
	$(BIN)/policytag corpus seeds --out labels/sentences.jsonl

DEMO_DOC := seeds/003_fb63a9ae8bf308c5.txt

demo: corpus
	@echo "== the taxonomy"
	$(BIN)/policytag labels taxonomy
	@echo "== the gold set covers every sentence of the corpus and its statistics are current"
	$(BIN)/policytag labels gold --check
	$(BIN)/policytag labels stats --check
	@echo "== training the default model offline (training/configs/default.yaml: the winner of the grouped cross-validation) into models/demo"
	$(BIN)/policytag train --config training/configs/default.yaml --output-dir models/demo
	@echo "== evaluating it on the documents it did not train on (its validation documents)"
	$(BIN)/policytag evaluate --model models/demo --data labels/gold.jsonl --held-out
	@echo "== tagging $(DEMO_DOC)"
	$(BIN)/policytag predict --model models/demo $(DEMO_DOC) --pretty
	@echo "== the same document through the HTTP API (a server on 127.0.0.1, stopped afterwards)"
	$(BIN)/python -m policytag.serving.demo --model models/demo $(DEMO_DOC)
	@echo "== demo done: models/demo is the model folder (model card: models/demo/README.md)"

# The domain base models/base: MLM pretraining of the demo's scratch shape on every sentence of the unlabelled
# harvest (training/configs/pretrain.yaml; long on 2 cores, see README "Domain pretraining"). `policytag train
# --base-model auto` uses it when no pretrained Chinese BERT is in the local Hugging Face cache.
pretrain: install
	$(BIN)/policytag pretrain --config training/configs/pretrain.yaml

# Style, types, the layer contract (import-linter, pyproject.toml) and the 60-line function limit.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_function_length.py

# Label Studio 1.23.2 lives in its own venv (.venv-ls, or $POLICYTAG_LABEL_STUDIO_VENV): it pins its SDK and
# many Django packages exactly. A failed install does not stop `make test`: the real-server tests then skip
# with a loud message.
labelstudio-install: install
	@$(BIN)/python scripts/install_labelstudio.py || { \
	  echo '!!!!!!!! Label Studio could not be installed into .venv-ls: its real-server tests will be SKIPPED !!!!!!!!'; }

# A local Label Studio on 127.0.0.1 (data in labelstudio-data/); prints URL, user and token; Ctrl-C stops it.
labelstudio: install labelstudio-install
	$(BIN)/policytag labels server

test: install labelstudio-install
	bash scripts/install-browser.sh
	$(MAKE) lint
	$(BIN)/python -m pytest
	bash scripts/check_wheel.sh

# The kit as a user installs it: a wheel in a clean venv, used from an empty folder (also part of `make test`).
wheel-check:
	bash scripts/check_wheel.sh

test-slow: install
	$(BIN)/python -m pytest -m slow

# Inference speed of every path on a bert-base-shaped model, and the accuracy guard of the BERT candidate.
bench-serve: install
	$(BIN)/python -m benchmarks.serve_bench

# Every candidate config on the same locality-grouped folds (README, Results); the winner becomes
# training/configs/default.yaml, whose model card quotes its row of training/results/compare.json.
# About 8 minutes on 2 cores.
compare: install
	$(BIN)/policytag compare --configs training/configs/tfidf-search.yaml training/configs/tfidf-oof.yaml \
	  training/configs/tfidf-validation.yaml --out training/results

# The fast inference paths and their accuracy guard are the BERT's: the guard is measured on the BERT candidate.
models/bert/policytag.json: install
	$(BIN)/policytag train --config training/configs/bert.yaml --output-dir models/bert

bench-guard: install models/bert/policytag.json
	$(BIN)/python -m benchmarks.quant_agreement --model models/bert

clean:
	rm -rf $(VENV) .venv-ls .pytest_cache .mypy_cache .ruff_cache build *.egg-info
