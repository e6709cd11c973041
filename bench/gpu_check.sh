#!/usr/bin/env bash
# One prepared GPU check for `distillery generate --backend vllm` (the generate issue):
#   1. the vLLM back-end on a small random-weight Qwen2 model saved locally (no network, no hub);
#   2. budget forcing (max thinking tokens) and --logprobs through vLLM;
#   3. `distillery score --backend vllm` (prompt_logprobs) on the generated traces;
#   4. throughput: `distillery generate` against bare vLLM (`LLM.generate`) on the same prompts,
#      same sampling settings, in the same run; the ratio is what to read (both include engine start).
# Budget: under 8 minutes on one H100.
#
# vLLM and its torch travel as WHEELS: this machine has no network. They are far larger (vllm
# ~400 MB, torch ~900 MB) than the 64 MiB the device tool can carry with the working tree, so the
# wheels must already be on the machine: WHEELS=/path/to/wheels (vllm, its torch and dependencies,
# plus polars, pyarrow, xxhash, typer, rich, pydantic, pyyaml, duckdb, datasketch, sympy), or an
# environment where `python -c "import vllm"` already works (PYTHON=/that/python). Without either
# the script prints SKIP and exits 0.
#   bash bench/gpu_check.sh          # results → $OUT/gpu_check.json (or /tmp)
# Env: PROBLEMS (256), N (4), MAX_TOKENS (512), HIDDEN (512), LAYERS (4).
set -euo pipefail
cd "$(dirname "$0")/.."
RESULT_DIR="${OUT:-/tmp}"; mkdir -p "$RESULT_DIR"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
PYTHON="${PYTHON:-python3}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

if ! "$PYTHON" -c "import vllm" 2>/dev/null; then
  if [ -n "${WHEELS:-}" ] && [ -d "$WHEELS" ]; then
    "$PYTHON" -m venv "$WORK/venv"
    PYTHON="$WORK/venv/bin/python"
    timeout 240 "$PYTHON" -m pip install -q --no-index --find-links "$WHEELS" vllm polars pyarrow xxhash typer rich \
      pydantic pyyaml duckdb datasketch sympy
  else
    echo "SKIP: vllm is not importable and WHEELS is not set (no network here: bring the wheels)"; exit 0
  fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 VLLM_NO_USAGE_STATS=1
PROBLEMS="${PROBLEMS:-256}" N="${N:-4}" MAX_TOKENS="${MAX_TOKENS:-512}"

# 1. a small random-weight model (head_dim 64: a size every vLLM attention back-end supports)
timeout 120 "$PYTHON" - "$WORK/model" <<PY
import sys
from train.tiny import TinySpec, build
build(sys.argv[1], TinySpec(hidden_size=${HIDDEN:-512}, heads=8, kv_heads=2, layers=${LAYERS:-4},
                            intermediate_size=4 * ${HIDDEN:-512}, max_position_embeddings=8192))
PY
"$PYTHON" - "$WORK/problems.jsonl" "$PROBLEMS" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(json.dumps({"problem": f"What is {i} + {2 * i + 1}? Think step by step.", "gold": str(3 * i + 1)}) + "\n")
PY

# 2. distillery generate on vLLM, timed; then budget forcing and logprobs on a few problems
T0=$(date +%s.%N)
timeout 200 "$PYTHON" -m curate.cli generate "$WORK/problems.jsonl" --model "$WORK/model" --backend vllm \
  --n "$N" --max-tokens "$MAX_TOKENS" --temperature 1.0 --out "$WORK/gen" --flush-every 256
T1=$(date +%s.%N)
timeout 120 "$PYTHON" -m curate.cli generate "$WORK/problems.jsonl" --model "$WORK/model" --backend vllm \
  --n 2 --limit 16 --max-tokens 96 --max-thinking 24 --temperature 1.0 --out "$WORK/forced"
timeout 120 "$PYTHON" -m curate.cli generate "$WORK/problems.jsonl" --model "$WORK/model" --backend vllm \
  --n 1 --limit 16 --max-tokens 32 --logprobs 4 --temperature 1.0 --out "$WORK/lp"
timeout 120 "$PYTHON" -m curate.cli score "$WORK/lp" --model "$WORK/model" --backend vllm --k 4 --out "$WORK/scored"

# 3. bare vLLM on the same prompts and settings
T2=$(date +%s.%N)
timeout 200 "$PYTHON" - "$WORK/model" "$WORK/problems.jsonl" "$N" "$MAX_TOKENS" "$WORK/bare.json" <<'PY'
import json, sys
from vllm import LLM, SamplingParams
model, problems, n, max_tokens, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
llm = LLM(model=model, seed=0)
tok = llm.get_tokenizer()
prompts = [tok.apply_chat_template([{"role": "user", "content": json.loads(l)["problem"]}], tokenize=False,
                                   add_generation_prompt=True) for l in open(problems)]
outs = llm.generate(prompts, SamplingParams(n=n, temperature=1.0, top_p=0.95, max_tokens=max_tokens, seed=0))
json.dump({"tokens": sum(len(o.token_ids) for r in outs for o in r.outputs)}, open(out, "w"))
PY
T3=$(date +%s.%N)

"$PYTHON" - "$WORK" "$RESULT_DIR/gpu_check.json" "$T0" "$T1" "$T2" "$T3" "$PROBLEMS" "$N" <<'PY'
import json, sys
from pathlib import Path
import pyarrow.parquet as pq
work, result = Path(sys.argv[1]), sys.argv[2]
t0, t1, t2, t3 = map(float, sys.argv[3:7]); problems, n = int(sys.argv[7]), int(sys.argv[8])
def rows(d):
    return [r for f in sorted(Path(d).glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
gen, forced, lp, scored = rows(work / "gen"), rows(work / "forced"), rows(work / "lp"), rows(work / "scored")
keys = {(r["problem_id"], r["sample_idx"]) for r in gen}
assert len(gen) == len(keys) == problems * n, (len(gen), len(keys))
assert all(r["thinking_tokens"] <= 24 and r["completion_tokens"] <= 96 for r in forced), "max thinking not obeyed"
assert all(len(r["topk_ids"]) == r["completion_tokens"] for r in lp), "one top-k list per generated token"
assert all(r["topk_ids"] and all(len(t) == 4 for t in r["topk_ids"]) for r in scored)
gen_tokens = sum(r["completion_tokens"] for r in gen)
bare_tokens = json.load(open(work / "bare.json"))["tokens"]
res = {"samples": len(gen), "distillery_s": round(t1 - t0, 2), "distillery_tok_s": round(gen_tokens / (t1 - t0), 1),
       "bare_vllm_s": round(t3 - t2, 2), "bare_vllm_tok_s": round(bare_tokens / (t3 - t2), 1),
       "forced_rows": len(forced), "forced_closed": sum(json.loads(r["meta"])["forced_close"] for r in forced),
       "truncated": sum(r["finish_reason"] == "length" for r in gen)}
res["throughput_ratio"] = round(res["distillery_tok_s"] / max(res["bare_vllm_tok_s"], 1e-9), 3)
json.dump(res, open(result, "w"), indent=2)
print(json.dumps(res, indent=2))
PY
