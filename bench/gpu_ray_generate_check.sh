#!/usr/bin/env bash
# One prepared GPU check for `distillery generate --backend vllm --engine ray --replicas R` (issue 18):
#   1. vLLM replicas in Ray actors (a local Ray on this machine's GPUs, one replica per GPU by
#      default) on a small random-weight Qwen2 model saved locally (no network, no hub);
#   2. killed with SIGKILL once a shard is on disk, then resumed: exactly N unique samples per
#      problem, none twice;
#   3. budget forcing (--max-thinking) through the Ray replicas;
#   4. throughput: the same command with --engine local (one vLLM in this process), same run.
# Budget: under 8 minutes on one H100 (each vLLM start is ~1 minute).
#
# Needs an environment where `python -c "import vllm, ray"` works (PYTHON=/that/python), or
# WHEELS=/path/to/wheels holding vllm, ray[data], their torch and dependencies, plus polars pyarrow
# xxhash typer rich pydantic pyyaml duckdb datasketch sympy transformers. Without either: SKIP, exit 0.
#   bash bench/gpu_ray_generate_check.sh     # results → $OUT/gpu_ray_generate_check.json (or /tmp)
# Env: PROBLEMS (128), N (4), MAX_TOKENS (256), REPLICAS (the GPU count), HIDDEN (512), LAYERS (4).
set -euo pipefail
cd "$(dirname "$0")/.."
RESULT_DIR="${OUT:-/tmp}"; mkdir -p "$RESULT_DIR"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
PYTHON="${PYTHON:-python3}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

if ! "$PYTHON" -c "import vllm, ray.data" 2>/dev/null; then
  if [ -n "${WHEELS:-}" ] && [ -d "$WHEELS" ]; then
    "$PYTHON" -m venv "$WORK/venv"
    PYTHON="$WORK/venv/bin/python"
    timeout 300 "$PYTHON" -m pip install -q --no-index --find-links "$WHEELS" vllm "ray[data]" polars pyarrow \
      xxhash typer rich pydantic pyyaml duckdb datasketch sympy transformers
  else
    echo "SKIP: vllm or ray is not importable and WHEELS is not set (no network here: bring the wheels)"; exit 0
  fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 VLLM_NO_USAGE_STATS=1
unset RAY_ADDRESS
PROBLEMS="${PROBLEMS:-128}" N="${N:-4}" MAX_TOKENS="${MAX_TOKENS:-256}"
GPUS=$(nvidia-smi -L 2>/dev/null | wc -l); REPLICAS="${REPLICAS:-$(( GPUS > 0 ? GPUS : 1 ))}"

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
GEN=("$PYTHON" -m curate.cli generate "$WORK/problems.jsonl" --model "$WORK/model" --backend vllm --n "$N"
     --max-tokens "$MAX_TOKENS" --temperature 1.0 --flush-every 16)

# 1-2. Ray replicas, killed once a shard is on disk, resumed
setsid "${GEN[@]}" --out "$WORK/ray" --engine ray --replicas "$REPLICAS" > "$WORK/killed.log" 2>&1 &
PID=$!
for _ in $(seq 1 1800); do
  ls "$WORK"/ray/gen-*-0000[0-9].parquet >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
kill -9 -- -"$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true
BEFORE=$(ls "$WORK"/ray/gen-*-[0-9]*.parquet 2>/dev/null | wc -l)
T0=$(date +%s.%N)
timeout 300 "${GEN[@]}" --out "$WORK/ray" --engine ray --replicas "$REPLICAS" | tee "$WORK/resumed.log"
T1=$(date +%s.%N)
# 3. budget forcing through the replicas
timeout 240 "$PYTHON" -m curate.cli generate "$WORK/problems.jsonl" --model "$WORK/model" --backend vllm --n 2 \
  --limit 16 --max-tokens 96 --max-thinking 24 --temperature 1.0 --out "$WORK/forced" --engine ray --replicas "$REPLICAS"
# 4. the same command on the local engine
T2=$(date +%s.%N)
timeout 300 "${GEN[@]}" --out "$WORK/local"
T3=$(date +%s.%N)

"$PYTHON" - "$WORK" "$RESULT_DIR/gpu_ray_generate_check.json" "$T0" "$T1" "$T2" "$T3" "$PROBLEMS" "$N" "$BEFORE" "$REPLICAS" <<'PY'
import json, sys
from collections import Counter
from pathlib import Path
import pyarrow.parquet as pq
work, result = Path(sys.argv[1]), sys.argv[2]
t0, t1, t2, t3 = map(float, sys.argv[3:7]); problems, n, before, replicas = map(int, sys.argv[7:11])
def rows(d):
    return [r for f in sorted(Path(d).glob("gen-*.parquet")) for r in pq.read_table(f).to_pylist()]
ray_rows, forced, local = rows(work / "ray"), rows(work / "forced"), rows(work / "local")
keys = Counter((r["problem_id"], r["sample_idx"]) for r in ray_rows)
assert len(keys) == problems * n and set(keys.values()) == {1}, "exactly n unique samples per problem after the kill"
assert all(r["thinking_tokens"] <= 24 and r["completion_tokens"] <= 96 for r in forced), "max thinking not obeyed"
assert len(local) == problems * n
resumed = (work / "resumed.log").read_text()
res = {"replicas": replicas, "shards_before_kill": before, "resumed_summary": resumed.strip().splitlines()[-1],
       "ray_resume_s": round(t1 - t0, 2), "local_s": round(t3 - t2, 2),
       "local_tok_s": round(sum(r["completion_tokens"] for r in local) / (t3 - t2), 1),
       "forced_rows": len(forced), "forced_closed": sum(json.loads(r["meta"])["forced_close"] for r in forced)}
json.dump(res, open(result, "w"), indent=2)
print(json.dumps(res, indent=2))
PY
