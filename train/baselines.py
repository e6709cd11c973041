"""Baseline selections for `distillery ablate`: k rows of the same pool, chosen without the recipe.

Each baseline is one small function `(pool, k, seed) -> trace_ids` registered under its name:

    random                uniformly at random (s1's "random 1K")
    longest               the longest thinking (s1's "longest 1K"), ties by trace_id
    diverse               equal shares per domain, random inside each, no quality or difficulty filter
    unfiltered-top        the highest score of the recipe's rubric over the whole pool, no verification
    filtered-unbalanced   at random among the rows that pass every filter of the recipe, without its
                          balancing (select / sample stages): filtering and balancing as separate arms
    teacher:NAME          k of teacher NAME's traces only, on the recipe's selected problems first
                          (one sample per problem, then a second, …), then its other problems: one
                          arm per teacher answers "which teacher" as the others answer "which rows"

A user's own baseline is a function with the same signature, named on the command line as
`package.module:function` (or registered with `@baseline("name")` before `ablate` runs). Every
selector must return exactly k distinct trace_ids of the pool and be a pure function of its inputs:
the same pool, k and seed give the same rows.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from curate.errors import BadInput

# Stages that choose among rows that are all fine (balancing), as opposed to filters that drop bad ones.
BALANCING_STAGES = ("select", "sample")


@dataclass
class Pool:
    """The pool every arm draws from: every input row with the columns the recipe's run gave it
    (`dropped_by`, `drop_reason`, a stage's own columns where the row reached that stage)."""

    frame: pl.DataFrame
    recipe: object               # curate.recipe.Recipe
    run: Path                    # the recipe's run folder

    @property
    def trace_ids(self) -> pl.Series:
        return self.frame["trace_id"]

    def balancing_labels(self) -> list[str]:
        return [s.label for s in self.recipe.stages if s.name in BALANCING_STAGES]

    def groups(self) -> pl.Series:
        """Each row's domain for `diverse`: the recipe's domain taxonomy applied to the whole pool
        when the recipe has a domain stage, else meta.family / meta.domain, else source."""
        domain = next((s for s in self.recipe.stages if s.name == "domain"), None)
        if domain is not None:
            from curate import domains

            cfg = domain.config
            texts = self.frame[cfg.on].cast(pl.String).fill_null("").to_list()
            distinct = sorted(set(texts))
            codes, _ = domains.classify(distinct, domains.load_taxonomy(cfg.taxonomy), cfg.model)
            of = dict(zip(distinct, codes))
            return pl.Series("group", [of[t] for t in texts], pl.String)
        for key in ("family", "domain"):
            values = self.frame.select(pl.col("meta").str.json_path_match(f"$.{key}").alias("group"))["group"]
            if values.null_count() == 0:
                return values
        return self.frame["source"].cast(pl.String).fill_null("(none)").alias("group")


Selector = Callable[[Pool, int, int], list[str]]
BASELINES: dict[str, Selector] = {}


def baseline(name: str) -> Callable[[Selector], Selector]:
    def register(fn: Selector) -> Selector:
        BASELINES[name] = fn
        return fn
    return register


def _random_order(ids: pl.Series, seed: int) -> np.ndarray:
    """A seeded permutation that depends on the ids, not on the pool's row order."""
    order = np.argsort(np.asarray(ids.to_list(), dtype=object), kind="stable")
    perm = np.random.default_rng(seed).permutation(len(order))
    return order[perm]


@baseline("random")
def random_k(pool: Pool, k: int, seed: int) -> list[str]:
    ids = pool.trace_ids
    return ids.gather(_random_order(ids, seed)[:k]).to_list()


@baseline("longest")
def longest(pool: Pool, k: int, seed: int) -> list[str]:
    df = pool.frame.select("trace_id", pl.col("thinking").fill_null("").str.len_chars().alias("_len"))
    return df.sort(["_len", "trace_id"], descending=[True, False])["trace_id"].head(k).to_list()


@baseline("diverse")
def diverse(pool: Pool, k: int, seed: int) -> list[str]:
    return _stratified(pool.frame.select("trace_id").with_columns(pool.groups()), k, seed)


@baseline("unfiltered-top")
def unfiltered_top(pool: Pool, k: int, seed: int) -> list[str]:
    from curate import rubric as rubrics

    stage = next((s for s in pool.recipe.stages if s.name == "rubric"), None)
    name = stage.config.rubric if stage is not None else "reasoning_quality"
    try:
        scored = rubrics.score(pool.frame, rubrics.load_rubric(name), prefix="_r_", score_column="_score")
    except BadInput as exc:
        raise BadInput(f"baseline unfiltered-top scores the whole pool with rubric {name}: {exc}") from exc
    return scored.sort(["_score", "trace_id"], descending=[True, False])["trace_id"].head(k).to_list()


@baseline("filtered-unbalanced")
def filtered_unbalanced(pool: Pool, k: int, seed: int) -> list[str]:
    passed = pool.frame.filter(pl.col("dropped_by").is_null() | pl.col("dropped_by").is_in(pool.balancing_labels()))
    if passed.height < k:
        raise BadInput(f"baseline filtered-unbalanced: only {passed.height:,} rows pass the recipe's filters, "
                       f"fewer than k = {k:,}")
    return random_k(Pool(passed, pool.recipe, pool.run), k, seed)


def _stratified(df: pl.DataFrame, k: int, seed: int) -> list[str]:
    """k rows in equal shares per group (small groups give all they have), seeded inside each."""
    from curate.select import equal_quotas

    df = df.with_columns(pl.Series("_r", np.argsort(_random_order(df["trace_id"], seed))))
    sizes = dict(df.group_by("group").len().iter_rows())
    quotas = equal_quotas(sizes, k)
    df = df.sort("group", "_r").with_columns(pl.int_range(pl.len()).over("group").alias("_i"))
    df = df.filter(pl.col("_i") < pl.col("group").replace_strict(quotas, default=0, return_dtype=pl.Int64))
    return df.sort("_i", "group")["trace_id"].to_list()


TEACHER = "teacher:"


def teacher_arm(name: str) -> Selector:
    """The selector of `teacher:NAME` (see the module docstring)."""
    teacher = name[len(TEACHER):]

    def select_teacher(pool: Pool, k: int, seed: int) -> list[str]:
        rows = pool.frame.filter(pl.col("teacher") == teacher)
        if rows.height < k:
            known = sorted(set(pool.frame["teacher"].drop_nulls().to_list()))
            raise BadInput(f"baseline {name}: the pool has {rows.height:,} traces of teacher {teacher!r}, fewer than "
                           f"k = {k:,} (teachers: {', '.join(known[:8])})")
        chosen = set(pool.frame.filter(pl.col("dropped_by").is_null())["problem_id"].to_list())
        order = np.argsort(_random_order(rows["trace_id"], seed))
        ranked = rows.select("trace_id", "problem_id").with_columns(
            pl.Series("_r", order), pl.col("problem_id").is_in(list(chosen)).alias("_chosen"))
        ranked = ranked.with_columns(pl.col("_r").rank("ordinal").over("problem_id").alias("_nth"))
        return ranked.sort(["_chosen", "_nth", "_r"], descending=[True, False, False])["trace_id"].head(k).to_list()

    return select_teacher


# --------------------------------------------------------------------------------- resolving

def resolve(name: str) -> Selector:
    """A registered baseline, or `package.module:function`."""
    if name in BASELINES:
        return BASELINES[name]
    if name.startswith(TEACHER):
        if not name[len(TEACHER):].strip():
            raise BadInput(f"--baselines {name}: name the teacher (teacher:NAME)")
        return teacher_arm(name)
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise BadInput(f"--baselines {name}: cannot import it ({exc})") from exc
        if not callable(fn):
            raise BadInput(f"--baselines {name}: not a function")
        _check_signature(name, fn)
        return fn
    raise BadInput(f"--baselines {name}: unknown baseline (known: {', '.join(BASELINES)}, "
                   f"or package.module:function)")


def _check_signature(name: str, fn: Callable) -> None:
    """A user's selector must take (pool, k, seed): checked when the plan is made, before the
    recipe runs and anything is written, not when the first seed reaches it."""
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # a builtin or C function: nothing to inspect, its call will tell
    try:
        sig.bind(object(), 0, 0)
    except TypeError:
        raise BadInput(f"--baselines {name}: a baseline takes (pool, k, seed); this one takes {sig}") from None


def select(name: str, pool: Pool, k: int, seed: int) -> list[str]:
    """Run a baseline and check what it returned: exactly k distinct trace_ids of the pool."""
    ids = list(resolve(name)(pool, k, seed))
    if len(ids) != k or len(set(ids)) != k:
        raise BadInput(f"baseline {name} returned {len(ids):,} rows ({len(set(ids)):,} distinct), not k = {k:,}")
    unknown = set(ids) - set(pool.trace_ids.to_list())
    if unknown:
        raise BadInput(f"baseline {name} returned trace_ids not in the pool, e.g. {sorted(unknown)[0]}")
    return ids
