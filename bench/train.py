"""Training throughput, packed (bfd, padding-free) vs padded, in the same run, on the tiny student (CPU).

    python bench/train.py [--rows 96] [--batch 8] [--steps 6]

Prints tokens/s (real tokens, not pads) and the share of non-pad tokens in what the model computes
on, for both layouts, and their ratio. The same rows, the same model, forward + backward + AdamW.
On CPU there is no flash attention: a packed batch runs sdpa with a block-diagonal mask, which is
what makes packing slower here; on a GPU with flash attention the varlen kernel makes it faster
(bench/gpu_train_check.sh measures that).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=96)
    ap.add_argument("--batch", type=int, default=8, help="rows per padded batch")
    ap.add_argument("--steps", type=int, default=6, help="optimiser steps per layout (after one warm-up)")
    args = ap.parse_args()

    import polars as pl
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl.data_utils import pack_dataset
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    from curate.messages import messages_expr
    from curate.synth import SynthConfig, generate
    from train.data import prepare_tokenizer, tokenize
    from train.tiny import build

    torch.manual_seed(0)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    with tempfile.TemporaryDirectory() as tmp:
        folder = build(Path(tmp) / "tiny")
        tok = AutoTokenizer.from_pretrained(folder)
        prepare_tokenizer(tok)
        frame = pl.from_arrow(generate(SynthConfig(n=args.rows, seed=5, attempts=False)).traces)
        table = frame.with_columns(messages_expr()).select("messages").to_arrow()
        cols, stats = tokenize(tok, table, None, "drop", "bench")
        seqs = cols["input_ids"]
        max_len = stats.longest
        import datasets

        ds = datasets.Dataset.from_dict({"input_ids": seqs})
        packed = pack_dataset(ds, seq_length=max_len, strategy="bfd")
        padded_batches = [[{"input_ids": s} for s in seqs[i:i + args.batch]] for i in range(0, len(seqs), args.batch)]
        pad_coll = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id)
        pack_coll = DataCollatorForLanguageModeling(pad_token_id=tok.pad_token_id, padding_free=True)
        # equal work: as many packed rows per step as the padded batch holds tokens on average
        rows = packed.to_list()
        per = max(1, round(sum(map(len, seqs)) / len(seqs) * args.batch / max_len))
        packed_batches = [rows[i:i + per] for i in range(0, len(rows), per)]

        def run(name: str, batches, collate) -> dict:
            model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="sdpa")
            model.train()
            opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
            real = computed = 0
            seconds = 0.0
            for step in range(args.steps + 1):
                batch = collate(batches[step % len(batches)])
                batch = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "position_ids", "labels")}
                t0 = time.perf_counter()
                out = model(**batch, use_cache=False)
                out.loss.backward()
                opt.step()
                opt.zero_grad()
                dt = time.perf_counter() - t0
                if step == 0:
                    continue   # warm-up
                seconds += dt
                n_real = int(batch["attention_mask"].sum()) if "attention_mask" in batch else int(
                    sum(len(r["input_ids"]) for r in batches[step % len(batches)]))
                real += n_real
                computed += batch["input_ids"].numel()
            return {"layout": name, "tokens_per_s": real / seconds, "non_pad_share": real / computed,
                    "steps": args.steps, "tokens": real}

        results = [run("padded", padded_batches, pad_coll), run("packed-bfd", packed_batches, pack_coll)]
    print(f"rows {len(seqs)}, longest {max_len} tokens, mean {sum(map(len, seqs)) / len(seqs):.0f}; "
          f"torch threads {torch.get_num_threads()}, device cpu, attention sdpa")
    print(f"{'layout':<12} {'tokens/s':>10} {'non-pad share':>14} {'tokens':>9}")
    for r in results:
        print(f"{r['layout']:<12} {r['tokens_per_s']:>10.0f} {r['non_pad_share']:>14.3f} {r['tokens']:>9}")
    pad, pack = results
    print(f"packed / padded: tokens/s ×{pack['tokens_per_s'] / pad['tokens_per_s']:.2f}, "
          f"non-pad share ×{pack['non_pad_share'] / pad['non_pad_share']:.2f}")


if __name__ == "__main__":
    main()
