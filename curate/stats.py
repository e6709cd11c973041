"""Bootstrap intervals for the numbers distillery compares: pass@1 of one model, and the gap between
two training selections graded on the same problems.

    pass1_interval(correct)                        # correct: bool [problems, samples]
    paired_intervals({"recipe": a, "random": b},   # per-problem scores [seeds, problems], same problems
                     groups=family_of_problem)

Both resample with replacement, seeded (same inputs and seed: the same interval, on every machine),
vectorised with numpy (B resamples at once, no Python loop over them), and report the percentile
interval (2.5th and 97.5th percentiles for 95%).

- `pass1_interval`: two levels, problems and then samples within each drawn problem (a problem's
  n samples are not n independent problems).
- `paired_intervals`: problems (stratified by group, so a macro average over groups keeps every group
  at its own size) and seeds, with *the same* draws for every arm. Pairing is what makes a gap's
  interval narrower than the two arms' intervals side by side: arms graded on the same hard problem
  both miss it. A gap whose interval excludes zero is what a paper may call a difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESAMPLES = 2000
LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    mean: float
    lo: float
    hi: float

    @property
    def excludes_zero(self) -> bool:
        return self.lo > 0 or self.hi < 0

    def as_dict(self) -> dict:
        return {"mean": self.mean, "lo": self.lo, "hi": self.hi}


def _bounds(draws: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(draws, [tail, 100 - tail])
    return float(lo), float(hi)


def pass1_interval(correct, resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> Interval:
    """pass@1 (mean correctness over all samples) of a [problems, samples] grid, with a two-level
    bootstrap interval: problems with replacement, then that problem's samples with replacement."""
    grid = np.asarray(correct, dtype=np.float64)
    if grid.ndim == 1:
        grid = grid[:, None]
    problems, samples = grid.shape
    if problems == 0 or samples == 0:
        raise ValueError("no problems or no samples to bootstrap")
    rng = np.random.default_rng(seed)
    which = rng.integers(0, problems, size=(resamples, problems))
    if samples == 1:
        draws = grid[which, 0].mean(axis=1)
    else:
        within = rng.integers(0, samples, size=(resamples, problems, samples))
        draws = grid[which[..., None], within].mean(axis=(1, 2))
    lo, hi = _bounds(draws, level)
    return Interval(float(grid.mean()), lo, hi)


def _weights(groups: np.ndarray) -> np.ndarray:
    """Per-problem weights of a macro average: each group weighs the same, split over its problems."""
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    return 1.0 / (len(counts) * counts[inverse])


def _stratified_draws(rng: np.random.Generator, groups: np.ndarray, resamples: int) -> np.ndarray:
    """[resamples, problems] indices: each position draws a problem of its own group, so every
    group keeps its size (and its weight in a macro average)."""
    problems = len(groups)
    out = np.empty((resamples, problems), dtype=np.int64)
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        out[:, members] = members[rng.integers(0, len(members), size=(resamples, len(members)))]
    return out


def paired_intervals(scores: dict[str, np.ndarray], groups=None, reference: str | None = None,
                     resamples: int = RESAMPLES, seed: int = 0,
                     level: float = LEVEL) -> tuple[dict[str, Interval], dict[str, Interval]]:
    """(per arm, per other arm's gap `reference − arm`) intervals of the macro mean.

    `scores[arm]` is [seeds, problems]: each problem's score (its pass@1 over its samples) for each
    seed, the problems in the same order for every arm and seed (seed i of every arm shares the
    student's initial weights, so seeds pair too). `groups` labels each problem (e.g. its family):
    the statistic is the mean over groups of the group's mean (None: one group, a plain mean), then
    the mean over seeds. Every arm gets the same problem and seed draws."""
    arms = list(scores)
    if not arms:
        raise ValueError("no arms")
    grids = {a: np.atleast_2d(np.asarray(scores[a], dtype=np.float64)) for a in arms}
    seeds, problems = grids[arms[0]].shape
    for a, g in grids.items():
        if g.shape != (seeds, problems):
            raise ValueError(f"arm {a}: scores of shape {g.shape}, expected {(seeds, problems)} like {arms[0]}")
    groups = np.zeros(problems, dtype=np.int64) if groups is None else np.asarray(groups)
    if len(groups) != problems:
        raise ValueError(f"{len(groups)} group labels for {problems} problems")
    weights = _weights(groups)
    rng = np.random.default_rng(seed)
    which = _stratified_draws(rng, groups, resamples)              # [B, P]
    seed_draw = rng.integers(0, seeds, size=(resamples, seeds))    # [B, S]

    def draws(grid: np.ndarray) -> np.ndarray:
        per_seed = (grid[:, which] * weights).sum(axis=-1).T      # [B, S]: macro of each seed's draw
        return np.take_along_axis(per_seed, seed_draw, axis=1).mean(axis=1)

    def point(grid: np.ndarray) -> float:
        return float((grid * weights).sum(axis=1).mean())

    drawn = {a: draws(grids[a]) for a in arms}
    per_arm = {a: Interval(point(grids[a]), *_bounds(drawn[a], level)) for a in arms}
    ref = reference or arms[0]
    gaps = {a: Interval(point(grids[ref]) - point(grids[a]), *_bounds(drawn[ref] - drawn[a], level))
            for a in arms if a != ref}
    return per_arm, gaps
