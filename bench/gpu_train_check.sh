#!/usr/bin/env bash
# One prepared GPU check for the train issue: bf16 training throughput of a small random-weight
# Qwen2 model, packed (padding-free, position_ids restart per example) vs padded, for every
# attention implementation available (flash_attention_2 if flash-attn is installed, sdpa,
# flex_attention), plus a correctness check that packed logits equal separate ones.
#
# Self-contained: needs only torch and transformers (no trl, polars, pydantic, distillery).
#   bash bench/gpu_train_check.sh            # results → $OUT/gpu_train_check.json (or /tmp)
# Env: DEVICE (cuda; cpu = smoke test), STEPS (8), ROWS (256), PACK_LEN (16384), BATCH (8), LAYERS (8), HIDDEN (1024).
set -euo pipefail
RESULT_DIR="${OUT:-/tmp}"
mkdir -p "$RESULT_DIR"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
PYTHON="${PYTHON:-python3}"
RESULT_DIR="$RESULT_DIR" "$PYTHON" - <<'EOF'
import importlib.util, json, math, os, random, time

import torch
import transformers
from transformers import Qwen2Config, Qwen2ForCausalLM

STEPS = int(os.environ.get("STEPS", 8))
ROWS = int(os.environ.get("ROWS", 256))
PACK_LEN = int(os.environ.get("PACK_LEN", 16384))
BATCH = int(os.environ.get("BATCH", 8))
LAYERS = int(os.environ.get("LAYERS", 8))
HIDDEN = int(os.environ.get("HIDDEN", 1024))
dev = os.environ.get("DEVICE", "cuda")   # DEVICE=cpu: a smoke test of this script, no figures
CUDA = dev == "cuda"
assert not CUDA or torch.cuda.is_available(), "no GPU"
NAME = torch.cuda.get_device_name() if CUDA else "cpu"
sync = torch.cuda.synchronize if CUDA else (lambda: None)
print(f"torch {torch.__version__}, transformers {transformers.__version__}, {NAME}", flush=True)

random.seed(0)
torch.manual_seed(0)
VOCAB = 32000
# reasoning-trace-like lengths: log-normal, median ~1.2K tokens, clipped to [64, 8192]
lengths = [int(min(8192, max(64, random.lognormvariate(math.log(1200), 0.8)))) for _ in range(ROWS)]
seqs = [torch.randint(0, VOCAB, (n,)) for n in lengths]

def bfd(lengths, cap):
    bins = []  # [free, [idx]]
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        best = None
        for b in bins:
            if b[0] >= lengths[i] and (best is None or b[0] < best[0]):
                best = b
        if best is None:
            best = [cap, []]
            bins.append(best)
        best[0] -= lengths[i]
        best[1].append(i)
    return [b[1] for b in bins]

def padded_batches():
    order = list(range(ROWS))
    random.Random(1).shuffle(order)
    out = []
    for s in range(0, ROWS, BATCH):
        idx = order[s:s + BATCH]
        L = max(lengths[i] for i in idx)
        ids = torch.zeros(len(idx), L, dtype=torch.long)
        mask = torch.zeros(len(idx), L, dtype=torch.long)
        for r, i in enumerate(idx):
            ids[r, :lengths[i]] = seqs[i]
            mask[r, :lengths[i]] = 1
        labels = ids.masked_fill(mask == 0, -100)
        out.append({"input_ids": ids, "attention_mask": mask, "labels": labels})
    return out

def packed_batches():
    out = []
    for idx in bfd(lengths, PACK_LEN):
        ids = torch.cat([seqs[i] for i in idx])[None]
        pos = torch.cat([torch.arange(lengths[i]) for i in idx])[None]
        labels = ids.clone()
        labels[pos == 0] = -100          # no loss across the boundary
        out.append({"input_ids": ids, "position_ids": pos, "labels": labels})
    return out

def make_model(attn):
    cfg = Qwen2Config(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=int(HIDDEN * 2.75),
                      num_hidden_layers=LAYERS, num_attention_heads=HIDDEN // 64, num_key_value_heads=max(1, HIDDEN // 256),
                      max_position_embeddings=32768, tie_word_embeddings=True, use_sliding_window=False)
    torch.manual_seed(0)
    return Qwen2ForCausalLM._from_config(cfg, attn_implementation=attn, dtype=torch.bfloat16 if CUDA else torch.float32).to(dev)

def correctness(model):
    model.eval()
    parts = [torch.randint(0, VOCAB, (n,)) for n in (37, 120, 64)]
    ids = torch.cat(parts)[None].to(dev)
    pos = torch.cat([torch.arange(len(p)) for p in parts])[None].to(dev)
    with torch.no_grad():
        packed = model(input_ids=ids, position_ids=pos, use_cache=False).logits[0].float()
        sep = torch.cat([model(input_ids=p[None].to(dev), use_cache=False).logits[0].float() for p in parts])
        leak = model(input_ids=ids, use_cache=False).logits[0].float()   # no position restart: attends across
    model.train()
    return {"max_abs_diff_packed_vs_separate": float((packed - sep).abs().max()),
            "max_abs_diff_unmasked_vs_separate": float((leak - sep).abs().max())}

def bench(model, batches, name):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=CUDA)
    if CUDA:
        torch.cuda.reset_peak_memory_stats()
    real = computed = 0
    secs = 0.0
    for step in range(STEPS + 2):
        b = {k: v.to(dev, non_blocking=True) for k, v in batches[step % len(batches)].items()}
        sync()
        t0 = time.perf_counter()
        loss = model(**b, use_cache=False).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync()
        if step < 2:
            continue
        secs += time.perf_counter() - t0
        n = int(b["attention_mask"].sum()) if "attention_mask" in b else b["input_ids"].numel()
        real += n
        computed += b["input_ids"].numel()
    return {"layout": name, "tokens_per_s": real / secs, "non_pad_share": real / computed,
            "peak_mem_gib": torch.cuda.max_memory_allocated() / 2**30 if CUDA else 0.0, "tokens": real, "seconds": secs}

impls = []
if importlib.util.find_spec("flash_attn") is not None:
    impls.append("flash_attention_2")
impls += ["sdpa", "flex_attention"]
results = {"device": NAME, "torch": torch.__version__, "transformers": transformers.__version__,
           "rows": ROWS, "mean_len": sum(lengths) / ROWS, "max_len": max(lengths), "pack_len": PACK_LEN,
           "batch": BATCH, "layers": LAYERS, "hidden": HIDDEN, "steps": STEPS, "runs": []}
pad, pack = padded_batches(), packed_batches()
print(f"{ROWS} rows, mean {results['mean_len']:.0f} tokens, {len(pad)} padded batches of {BATCH}, "
      f"{len(pack)} packed rows of ≤{PACK_LEN}", flush=True)
for attn in impls:
    try:
        model = make_model(attn)
        check = correctness(model)
        print(f"[{attn}] correctness {check}", flush=True)
        for name, batches in (("padded", pad), ("packed", pack)):
            r = bench(model, batches, name)
            r.update(attn=attn, **check)
            results["runs"].append(r)
            print(f"[{attn}] {name:<7} {r['tokens_per_s']:>10.0f} tok/s  non-pad {r['non_pad_share']:.3f}  "
                  f"peak {r['peak_mem_gib']:.1f} GiB", flush=True)
        del model
        if CUDA:
            torch.cuda.empty_cache()
    except Exception as exc:  # one implementation failing must not hide the others
        print(f"[{attn}] failed: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}", flush=True)
        results["runs"].append({"attn": attn, "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
for attn in impls:
    r = {x["layout"]: x for x in results["runs"] if x.get("attn") == attn and "layout" in x}
    if len(r) == 2:
        print(f"[{attn}] packed/padded tokens/s ×{r['packed']['tokens_per_s'] / r['padded']['tokens_per_s']:.2f}")
path = os.path.join(os.environ["RESULT_DIR"], "gpu_train_check.json")
with open(path, "w") as f:
    json.dump(results, f, indent=2)
print(f"→ {path}")
EOF
