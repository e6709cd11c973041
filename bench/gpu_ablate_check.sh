#!/usr/bin/env bash
# One prepared GPU check for `distillery ablate` (issue #9): the same ablation as
# bench/curation_value.py (recipe `procedural` against baselines, 3 seeds, k = 1000), trained on the
# GPU and graded through vLLM (`--backend vllm`), one student at a time per GPU.
#   1. the procedural pool and its held-out split (`distillery synth --profile procedural`);
#   2. the student: MODEL=/path/to/a/local/instruct/model (e.g. Qwen2.5-0.5B-Instruct already on
#      disk), or by default the 0.54M procedural student rebuilt with head_dim 64 (two heads), a
#      head size every vLLM attention back-end supports (the CPU default has head_dim 32);
#   3. `distillery ablate … --backend vllm`, then the table; the results land in $OUT.
# Budget: under 8 minutes on one H100 with the tiny student (training is seconds per 1,000 steps on
# a GPU; vLLM's engine start dominates each eval).
#
# Needs an environment with vllm AND this project's train extra (trl, transformers, datasets,
# accelerate) and core deps: PYTHON=/that/python, or WHEELS=/path/to/wheels to build one offline.
# The device tool cannot carry vLLM's wheels (far over its 64 MiB), so without either this prints
# SKIP and exits 0.
#   bash bench/gpu_ablate_check.sh     # → $OUT/ablation (table.md, summary.json, ablation.svg)
# Env: SEEDS (3), BASELINES (random,filtered-unbalanced), MODEL (tiny), STEPS (1200).
set -euo pipefail
cd "$(dirname "$0")/.."
RESULT_DIR="${OUT:-/tmp}"; mkdir -p "$RESULT_DIR"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
PYTHON="${PYTHON:-python3}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

need='import vllm, trl, transformers, datasets, polars, duckdb, datasketch, sympy, pydantic, typer, xxhash'
if ! "$PYTHON" -c "$need" 2>/dev/null; then
  if [ -n "${WHEELS:-}" ] && [ -d "$WHEELS" ]; then
    "$PYTHON" -m venv "$WORK/venv"
    PYTHON="$WORK/venv/bin/python"
    timeout 300 "$PYTHON" -m pip install -q --no-index --find-links "$WHEELS" vllm trl transformers datasets \
      accelerate polars pyarrow xxhash typer rich pydantic pyyaml duckdb datasketch sympy httpx
  else
    echo "SKIP: vllm + the train extra are not importable and WHEELS is not set (no network here)"; exit 0
  fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 VLLM_NO_USAGE_STATS=1
D() { "$PYTHON" -m curate.cli "$@"; }

D synth --profile procedural --n 6000 --out "$WORK/pool"
MODEL="${MODEL:-tiny}"
if [ "$MODEL" = tiny ]; then
  MODEL="$WORK/student"
  "$PYTHON" -c "from train.tiny import build, spec_for; build('$MODEL', spec_for('procedural', heads=2, kv_heads=1))"
fi
start=$(date +%s)
D ablate --pool "$WORK/pool" --recipe procedural --k 1000 --baselines "${BASELINES:-random,filtered-unbalanced}" \
  --model "$MODEL" --eval "$WORK/pool/heldout" --seeds "${SEEDS:-3}" --out "$RESULT_DIR/ablation" --overwrite \
  --backend vllm --max-new-tokens 128 --set "max_steps=${STEPS:-1200}" --set bf16=false --set torch_dtype=float32
echo "ablation wall time: $(( $(date +%s) - start )) s on $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
