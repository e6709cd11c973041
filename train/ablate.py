"""`distillery ablate`: does the recipe's k beat other k of the same pool? Train and measure.

    distillery ablate --pool traces/ --recipe procedural --k 1000 --baselines random,longest \\
        --model tiny --eval traces/heldout --seeds 3 --out runs/ablation

1. the recipe runs on the pool (OUT becomes its run folder: traces, selected, manifest);
2. each baseline (`train.baselines`) picks k rows of the same pool, per seed;
3. one student per arm and seed trains with the same config, `--set`s and step count
   (`train.sft.train`, in subprocesses, `--jobs` at a time with the cores split between them)
   and is graded on the held-out problems (`train.evaluate.evaluate`: greedy, one sample;
   `--eval-n N`: N samples per problem at temperature 0.6);
4. `train.ablation_table` turns the grades into mean ± sd per arm and family, the recipe's gap to
   each baseline paired by seed, 95% intervals of both (a paired bootstrap over problems and
   seeds, `curate.stats`), and a plot.

OUT/ablation/ holds the plan, the selections, the students and their evals, results.parquet and
summary.json (the layout: `curate.ablation_files`): `distillery sql OUT` gets views over them and
`distillery report OUT` a section.
Finished students are kept: running the same command again only runs what is missing.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from curate import schema, store
from curate.ablation_files import PLAN, Job, folder, selection_file, student_dir
from curate.errors import BadInput

__all__ = ["AblateConfig", "AblateResult", "Job", "folder", "run", "selection_file", "student_dir"]

RECIPE_ARM = "recipe"
SAMPLED_TEMPERATURE = 0.6   # --eval-n > 1: R1's and s1's sampling temperature


class AblateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pool: Path
    recipe: str
    k: int = Field(gt=0)
    baselines: list[str] = Field(default_factory=lambda: ["random"])
    model: str = "tiny"
    eval: str
    seeds: int = Field(3, ge=1)
    out: Path
    config: str = "ablate-tiny"
    sets: list[str] = Field(default_factory=list)
    jobs: int | None = Field(None, ge=1)
    backend: str = "hf"
    max_new_tokens: int | None = Field(None, ge=1)
    eval_batch_size: int = Field(256, ge=1)
    eval_n: int = Field(1, ge=1, description="answers sampled per held-out problem (1: greedy)")
    overwrite: bool = False


# ---------------------------------------------------------------------------------- checking

def check_inputs(cfg: AblateConfig):
    """Everything a user can get wrong, found before anything is written. Returns (recipe, pool
    table, eval problems, train config, max_steps)."""
    from curate import recipe as recipes
    from train import baselines
    from train.config import load_config
    from train.evaluate import load_bench

    arms = [b.strip() for b in cfg.baselines if b.strip()]
    if not arms:
        raise BadInput("--baselines: name at least one baseline (e.g. random)")
    if RECIPE_ARM in arms or len(set(arms)) != len(arms):
        raise BadInput(f"--baselines {','.join(cfg.baselines)}: each baseline once, and not {RECIPE_ARM!r}")
    for name in arms:
        baselines.resolve(name)
    if cfg.backend not in ("hf", "vllm"):
        raise BadInput(f"--backend {cfg.backend}: expected hf or vllm")
    recipe = recipes.load(cfg.recipe)
    pool = store.load_traces(cfg.pool, check_ids=False)
    if cfg.k > pool.num_rows:
        raise BadInput(f"--k {cfg.k:,} is larger than the pool ({cfg.pool}: {pool.num_rows:,} rows)")
    _check_teachers(arms, pool, cfg.k)
    _, problems = load_bench(cfg.eval)
    overlap = _overlap(pool, problems)
    if overlap:
        raise BadInput(f"--eval {cfg.eval}: {len(overlap):,} of its {len(problems):,} problems are also in the pool "
                       f"{cfg.pool} (e.g. {overlap[0]!r}); evaluate on held-out problems")
    train_cfg = load_config(cfg.config, cfg.sets)
    if cfg.model != "tiny":
        from train.sft import check_model

        check_model(cfg.model)
    steps = train_cfg.max_steps
    if steps <= 0:
        # the step count must not depend on the arm's data: fix it from k, the batch and the epochs
        steps = max(1, math.ceil(cfg.k / train_cfg.global_batch_size * train_cfg.num_train_epochs))
    return recipe, pool, problems, train_cfg, steps


def _check_teachers(arms: list[str], pool, k: int) -> None:
    """`teacher:NAME` arms need k of NAME's traces in the pool: found before anything is written."""
    from collections import Counter

    from train.baselines import TEACHER

    wanted = [a for a in arms if a.startswith(TEACHER)]
    if not wanted:
        return
    counts = Counter(pool.column("teacher").to_pylist())
    for arm in wanted:
        have = counts.get(arm[len(TEACHER):], 0)
        if have < k:
            known = ", ".join(f"{t} ({n:,})" for t, n in counts.most_common(6))
            raise BadInput(f"--baselines {arm}: the pool has {have:,} traces of that teacher, fewer than k = {k:,} "
                           f"(teachers: {known})")


def _overlap(pool, problems: list[dict]) -> list[str]:
    from curate.text import normalize_for_dedup

    ids = set(pool.column("problem_id").to_pylist())
    texts = {normalize_for_dedup(p) for p in pool.column("problem").to_pylist() if p}
    return [p["problem"] for p in problems
            if schema.problem_id(p["problem"]) in ids or normalize_for_dedup(p["problem"]) in texts]


def with_k(recipe, k: int):
    """The recipe with its (last) select stage keeping k rows; a recipe without one is used as is."""
    stages = list(recipe.stages)
    for i in range(len(stages) - 1, -1, -1):
        if stages[i].name == "select":
            stages[i] = replace(stages[i], config=stages[i].config.model_copy(update={"k": k}))
            return replace(recipe, stages=tuple(stages))
    return recipe


# ---------------------------------------------------------------------------------- the plan

def plan_of(cfg: AblateConfig, recipe, pool_files: list[Path], train_cfg, steps: int) -> dict:
    return {"pool": str(cfg.pool), "pool_fingerprint": store.fingerprint(pool_files), "recipe": recipe.name,
            "recipe_resolved": recipe.resolved(), "k": cfg.k, "arms": [RECIPE_ARM, *cfg.baselines],
            "seeds": list(range(cfg.seeds)), "model": cfg.model, "eval": str(cfg.eval),
            "train_config": cfg.config, "sets": list(cfg.sets), "max_steps": steps,
            "train": train_cfg.model_dump(mode="json"), "backend": cfg.backend,
            # an answer fits in what training allowed the whole conversation
            "max_new_tokens": cfg.max_new_tokens or train_cfg.max_length or 4096, "eval_n": cfg.eval_n,
            "temperature": 0.0 if cfg.eval_n == 1 else SAMPLED_TEMPERATURE}


def _check_plan(out: Path, plan: dict, overwrite: bool) -> None:
    path = folder(out) / PLAN
    if not path.is_file() or overwrite:
        return
    old = json.loads(path.read_text())
    keys = {"pool_fingerprint": "pool", "recipe_resolved": "recipe", "k": "k", "model": "model", "eval": "eval set",
            "train": "training config", "max_steps": "step count", "backend": "eval back-end",
            "max_new_tokens": "eval token limit", "eval_n": "--eval-n"}
    changed = [name for key, name in keys.items() if old.get(key) != plan.get(key)]
    if changed:
        raise BadInput(f"{out}: holds an ablation with another {', '.join(changed)}; use --overwrite to replace it "
                       f"or another --out")


# ------------------------------------------------------------------------------------ running

@dataclass
class AblateResult:
    out: Path
    summary: dict
    table: str


def run(cfg: AblateConfig, log=print) -> AblateResult:
    from curate import run as runner
    from train import ablation_table

    recipe, pool_table, problems, train_cfg, steps = check_inputs(cfg)
    out = Path(cfg.out)
    plan = plan_of(cfg, recipe, store.parquet_files(cfg.pool), train_cfg, steps)
    _check_plan(out, plan, cfg.overwrite)
    recipe = with_k(recipe, cfg.k)
    log(f"curating: recipe {recipe.name} on {cfg.pool} ({pool_table.num_rows:,} rows)")
    result = runner.run(recipe, cfg.pool, out, overwrite=cfg.overwrite)
    if result.rows_selected != cfg.k:
        raise BadInput(f"recipe {recipe.name} kept {result.rows_selected:,} rows of {cfg.pool}, not k = {cfg.k:,} "
                       f"(a larger pool, or a smaller --k)")
    base = folder(out)
    base.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(plan, indent=2, sort_keys=True) + "\n", base / PLAN)
    jobs = write_selections(cfg, recipe, out)
    inits = init_models(cfg, out)
    todo = [j for j in jobs if not (student_dir(out, j) / "eval" / "summary.json").is_file()]
    if len(todo) < len(jobs):
        log(f"{len(jobs) - len(todo)} of {len(jobs)} students already trained and graded: kept")
    slots, threads, gpus = _slots(cfg.jobs)
    log(f"training {len(todo)} students ({len(plan['arms'])} arms × {cfg.seeds} seeds, {steps:,} steps each), "
        f"{slots} at a time" + (f", {threads} thread{'s' if threads > 1 else ''} each" if not gpus else f" on {gpus} GPUs"))
    cfg = cfg.model_copy(update={"max_new_tokens": plan["max_new_tokens"]})
    failures = _run_jobs(cfg, out, todo, inits, steps, slots, threads, gpus, log)
    if failures:
        job, step, path = failures[0]
        raise BadInput(f"{job.name}: {step} failed (see {path}); {len(failures)} of {len(todo)} jobs failed")
    results = ablation_table.collect(out, jobs)
    summary = ablation_table.summarize(results, plan)
    table = ablation_table.render(summary)
    ablation_table.write(out, results, summary, table)
    return AblateResult(out, summary, table)


def write_selections(cfg: AblateConfig, recipe, out: Path) -> list[Job]:
    """One Parquet file per arm and seed: trace_id, problem_id, source, the chat `messages` the
    student trains on (built exactly as the run's export step builds them)."""
    from curate.messages import messages_expr
    from train import baselines

    frame = pl.read_parquet(out / "traces.parquet")
    pool = baselines.Pool(frame, recipe, out)
    chosen = pl.read_parquet(out / "selected.parquet", columns=["trace_id"])["trace_id"].to_list()
    keep = ["trace_id", "problem_id", "source", "problem", messages_expr(recipe.export)]
    jobs = []
    for seed in range(cfg.seeds):
        for arm in [RECIPE_ARM, *cfg.baselines]:
            ids = chosen if arm == RECIPE_ARM else baselines.select(arm, pool, cfg.k, seed)
            rank = pl.DataFrame({"trace_id": ids, "rank": range(1, len(ids) + 1)})
            rows = frame.join(rank, on="trace_id").sort("rank").select(*keep, "rank").with_columns(
                pl.lit(arm).alias("arm"), pl.lit(seed).alias("seed"))
            job = Job(arm, seed)
            path = selection_file(out, job)
            path.parent.mkdir(parents=True, exist_ok=True)
            store.write_parquet(rows.to_arrow(), path)
            jobs.append(job)
    return jobs


def init_models(cfg: AblateConfig, out: Path) -> dict[int, str]:
    """The student each seed starts from: `tiny` builds one random-weight procedural student per
    seed (every arm of a seed starts from the same weights); a model path or name is used as is."""
    if cfg.model != "tiny":
        return dict.fromkeys(range(cfg.seeds), cfg.model)
    from transformers.utils import logging as hf_logging

    from train import tiny

    hf_logging.disable_progress_bar()   # one line per student, not a bar per saved shard
    inits = {}
    for seed in range(cfg.seeds):
        path = folder(out) / "init" / f"seed-{seed}"
        if not (path / "config.json").is_file():
            tiny.build(path, tiny.spec_for("procedural", seed=seed))
        inits[seed] = str(path)
    return inits


def _slots(jobs: int | None) -> tuple[int, int, int]:
    """(concurrent jobs, threads per job, GPUs). One job per GPU; on a CPU, two jobs at a time
    where there are two cores or more, the cores split between them."""
    gpus = 0
    try:
        import torch

        gpus = torch.cuda.device_count()
    except ImportError:  # pragma: no cover - train extra missing is reported by train sft
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    slots = jobs or (gpus if gpus else (2 if cores >= 2 else 1))
    return slots, max(1, cores // slots), gpus


JOB_SPEC = "job.json"   # a student's two calls and their arguments, beside its job.log


def job_spec(cfg: AblateConfig, out: Path, job: Job, init: str, steps: int) -> dict:
    """The arguments of one student's `train.sft.train` and `train.evaluate.evaluate` calls."""
    student = student_dir(out, job)
    train = {"data": str(selection_file(out, job)), "model": init, "out": str(student), "config": cfg.config,
             "sets": [*cfg.sets, f"seed={job.seed}", f"max_steps={steps}"]}
    ev = {"model": str(student), "bench": str(cfg.eval), "out": str(student / "eval"), "n": cfg.eval_n,
          "temperature": 0 if cfg.eval_n == 1 else SAMPLED_TEMPERATURE,
          "max_new_tokens": cfg.max_new_tokens or 4096, "backend": cfg.backend,
          "batch_size": cfg.eval_batch_size, "seed": job.seed}
    return {"train": train, "eval": ev}


def job_main(argv: list[str]) -> int:
    """`python -m train.ablate STUDENT/job.json`: one student's training then evaluation, called
    as functions in one interpreter (torch and TRL imported once per student, not twice). A
    process per student keeps each one's threads, GPU and memory its own."""
    from curate import locks
    from train import evaluate, sft

    spec = json.loads(Path(argv[0]).read_text())
    try:
        with locks.writer(Path(spec["train"]["out"])):
            trained = sft.train(**spec["train"], log=lambda line: print(line, flush=True))
        print(trained.summary(), "", sep="\n", flush=True)
        graded = evaluate.evaluate(**spec["eval"])
        print(graded.text(), flush=True)
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    return 0


def _run_jobs(cfg, out, todo, inits, steps, slots, threads, gpus, log) -> list[tuple[Job, str, Path]]:
    import queue

    failures: list[tuple[Job, str, Path]] = []
    done = [0]
    started = time.perf_counter()
    free: queue.Queue[int] = queue.Queue()   # slot ids: a job holds one (and its GPU) while it runs
    for slot in range(slots):
        free.put(slot)

    def one(job: Job) -> None:
        slot = free.get()
        try:
            run_one(job, slot)
        finally:
            free.put(slot)

    def run_one(job: Job, slot: int) -> None:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                   TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = str(slot % gpus)
        student = student_dir(out, job)
        student.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        spec = student / JOB_SPEC
        store.write_text(json.dumps(job_spec(cfg, out, job, inits[job.seed], steps), indent=2) + "\n", spec)
        path = student / "job.log"
        with path.open("w") as fh:
            code = subprocess.run([sys.executable, "-m", "train.ablate", str(spec)],
                                  stdout=fh, stderr=subprocess.STDOUT, env=env).returncode
        if code != 0:
            step = "eval" if (student / "train_summary.json").is_file() else "training"
            failures.append((job, step, path))
            return
        summary = json.loads((student / "eval" / "summary.json").read_text())
        done[0] += 1
        log(f"[{done[0]}/{len(todo)}] {job.name}: pass@1 {summary['pass@1']:.3f} "
            f"({time.perf_counter() - t0:.0f} s; {time.perf_counter() - started:.0f} s in all)")

    with ThreadPoolExecutor(max_workers=slots) as pool:
        list(pool.map(one, todo))
    return failures


if __name__ == "__main__":
    sys.exit(job_main(sys.argv[1:]))
