"""The corpus: `generate` builds it in memory (exactly `n` teacher rows, plus attempts), `write`
puts it in a trace folder."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np

from curate import schema, store
from curate.synth import defects, golds, heldout
from curate.synth.config import SynthConfig, SynthResult
from curate.synth.instances import draw_instances, sample_counts
from curate.synth.rows import ROW_DEFECTS, attempts_table, teacher_row, trace_table, unique_row


def generate(cfg: SynthConfig) -> SynthResult:
    """Build the corpus in memory: exactly `cfg.n` teacher rows, plus student attempts if asked."""
    nrng = np.random.default_rng([cfg.seed, 1])
    counts = sample_counts(cfg, nrng)
    instances = draw_instances(cfg, len(counts), nrng, random.Random(f"{cfg.seed}/problems"))
    held = heldout.problems(cfg, instances) if cfg.heldout else []
    if held:
        instances = heldout.plant(cfg, instances, held)
    instances, planted = golds.plant(instances, cfg.wrong_gold, cfg.seed)
    of_row = np.repeat(np.arange(len(counts)), counts)
    sample_idx = np.arange(cfg.n) - np.repeat(np.cumsum(counts) - counts, counts)
    difficulty = np.array([inst.problem.difficulty for inst in instances])[of_row]
    plan = defects.plan_rows(cfg.defects, difficulty, nrng)
    flags = {name: getattr(plan, name).tolist() for name in ROW_DEFECTS}
    lengths = plan.length.tolist()
    rng = random.Random(f"{cfg.seed}/traces")
    pids = [schema.problem_id(inst.text) for inst in instances]
    rows, seen, tally, correct = [], set(), Counter(), 0
    for i, (k, idx) in enumerate(zip(of_row.tolist(), sample_idx.tolist())):
        row_flags = {name: flags[name][i] for name in ROW_DEFECTS}
        row, meta = teacher_row(instances[k], idx, row_flags, lengths[i], rng)
        while not unique_row(row, pids[k], seen):
            row, meta = teacher_row(instances[k], idx, row_flags, lengths[i], rng)
        rows.append(row)
        tally.update(meta["defects"])
        correct += meta["correct"]
    traces, regraded = golds.record(trace_table(rows, [cfg.teacher] * cfg.n), planted)
    attempts, _ = golds.record(attempts_table(cfg, instances, pids) if cfg.attempts else None, planted)
    result = SynthResult(cfg, traces, attempts, len(instances), correct + regraded, tally)
    if held:
        result.heldout = heldout.table(cfg, held)
        result.planted = sum(inst.heldout_of is not None for inst in instances)
    return result


def write(cfg: SynthConfig, out: Path | str) -> SynthResult:
    """Generate, then write OUT/synth-NNNNN.parquet, (attempts) OUT/attempts/synth-NNNNN.parquet and
    (heldout) OUT/heldout/synth-NNNNN.parquet.

    Without attempts or a held-out split, stale synth shards of them from an earlier run are
    removed: they would describe other problems."""
    out = Path(out)
    result = generate(cfg)
    result.written = store.save_traces(result.traces, out, prefix="synth")
    attempts_dir = out / "attempts"
    if result.attempts is not None:
        result.written += store.save_traces(result.attempts, attempts_dir, prefix="synth")
    else:
        for stale in attempts_dir.glob("synth-[0-9][0-9][0-9][0-9][0-9].parquet"):
            stale.unlink()
    if result.heldout is not None:
        result.written += store.save_traces(result.heldout, out / heldout.DIR, prefix="synth")
    else:
        for stale in (out / heldout.DIR).glob("synth-[0-9][0-9][0-9][0-9][0-9].parquet"):
            stale.unlink()
    return result
