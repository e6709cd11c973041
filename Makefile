# `make demo` and `make test` set everything up on first use; a second run installs nothing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# The CPU build of torch lies on this machine's disk; a bare `torch` would pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
# CI runs the Ray engine's tests too, so `make test` installs the ray extra beside all and dev.
EXTRAS ?= all,dev,ray
STAMP  := $(VENV)/.installed
DISTILLERY := $(VENV)/bin/distillery

.PHONY: setup demo test test-fast bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	touch $(STAMP)

# The embedded default: synthetic traces (and a held-out split, a few of its problems planted in the
# corpus for the decontam stage to catch: no network, no benchmark download) -> the demo recipe -> a run folder.
DEMO_N ?= 20000
DEMO   ?= demo
demo: setup
	$(DISTILLERY) synth --n $(DEMO_N) --seed 0 --heldout 200 --out $(DEMO)/traces
	$(DISTILLERY) curate demo --input $(DEMO)/traces --out $(DEMO)/runs/demo
	$(DISTILLERY) sql $(DEMO)/runs/demo --query funnel
	$(DISTILLERY) sql $(DEMO)/runs/demo --query suspect_golds --max-rows 10
	$(DISTILLERY) sql $(DEMO)/runs/demo --query teachers
	$(DISTILLERY) export $(DEMO)/runs/demo --format parquet --out $(DEMO)/export/demo.parquet
	$(DISTILLERY) tiny-model --out $(DEMO)/tiny
	$(DISTILLERY) train sft --data $(DEMO)/runs/demo --model $(DEMO)/tiny --out $(DEMO)/runs/demo/student --config tiny --set max_rows=256 --set num_train_epochs=2
	$(DISTILLERY) synth --n 200 --seed 1 --no-attempts --out $(DEMO)/heldout
	$(DISTILLERY) eval --model $(DEMO)/runs/demo/student --bench $(DEMO)/heldout --limit 12 --n 2 --max-new-tokens 192 --out $(DEMO)/runs/demo/student/eval
	$(DISTILLERY) report $(DEMO)/runs/demo --out $(DEMO)/runs/demo/report.html
	@echo "run folder: $(DEMO)/runs/demo  (traces.parquet: every row and why it was dropped; selected.parquet: the training set; report.html)"
	# What the curation is worth, small: the procedural recipe's 1k against a random 1k of the same
	# pool, one seed (two students trained at once, ~4 minutes on 2 cores).
	$(DISTILLERY) synth --profile procedural --n 6000 --out $(DEMO)/pool
	$(DISTILLERY) ablate --pool $(DEMO)/pool --recipe procedural --k 1000 --baselines random --model tiny --eval $(DEMO)/pool/heldout --seeds 1 --out $(DEMO)/runs/ablation
	$(DISTILLERY) report $(DEMO)/runs/ablation --out $(DEMO)/runs/ablation/report.html
	@echo "the full ablation (3 seeds: keeps seed 0, adds seeds 1 and 2, ~9 more minutes on 2 cores): $(DISTILLERY) ablate --pool $(DEMO)/pool --recipe procedural --k 1000 --baselines random --model tiny --eval $(DEMO)/pool/heldout --seeds 3 --out $(DEMO)/runs/ablation"

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

bench: setup
	$(PY) bench/foundation.py
	$(PY) bench/train.py

lint: setup
	$(VENV)/bin/ruff check curate train tests bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
