"""Bootstrap intervals on synthetic per-problem results whose truth is planted: a real difference is
called a difference, no difference is not, and the intervals cover at about their level."""

from __future__ import annotations

import numpy as np
import pytest

from curate.stats import Interval, paired_intervals, pass1_interval

PROBLEMS, SEEDS = 240, 3
FAMILIES = np.repeat(np.arange(4), PROBLEMS // 4)


def students(rng, rates: dict[str, float], difficulty: np.ndarray, samples: int = 1) -> dict[str, np.ndarray]:
    """Per-problem pass@1 [seeds, problems] of arms whose solve chance is rate × how easy a problem is
    (shared by every arm: the pairing a paired bootstrap exploits)."""
    out = {}
    for arm, rate in rates.items():
        p = np.clip(rate * difficulty, 0, 1)
        out[arm] = (rng.random((SEEDS, PROBLEMS, samples)) < p[None, :, None]).mean(axis=2)
    return out


def test_planted_difference_and_planted_non_difference_are_called_right():
    rng = np.random.default_rng(7)
    easy = rng.uniform(0.3, 1.6, PROBLEMS)
    scores = students(rng, {"recipe": 0.6, "better-by-nothing": 0.6, "worse": 0.4}, easy)
    arms, gaps = paired_intervals(scores, groups=FAMILIES, reference="recipe", seed=0)
    assert set(arms) == {"recipe", "better-by-nothing", "worse"} and set(gaps) == {"better-by-nothing", "worse"}
    assert gaps["worse"].excludes_zero and gaps["worse"].lo > 0                  # a true gap of ~0.2
    assert not gaps["better-by-nothing"].excludes_zero                           # the same student twice
    for a in arms.values():
        assert a.lo <= a.mean <= a.hi
    # a paired gap is narrower than the arms' own intervals side by side
    g = gaps["worse"]
    assert g.hi - g.lo < (arms["recipe"].hi - arms["recipe"].lo) + (arms["worse"].hi - arms["worse"].lo)
    # the point estimate is the macro mean over families, then over seeds
    by_family = [scores["recipe"][:, FAMILIES == f].mean(axis=1) for f in range(4)]
    assert arms["recipe"].mean == pytest.approx(float(np.mean(by_family)))
    assert g.mean == pytest.approx(arms["recipe"].mean - arms["worse"].mean)


def test_null_gaps_exclude_zero_about_five_percent_of_the_time():
    """Many ablations of two arms with the same true rate: the 95% interval of their gap excludes
    zero in at most about 5% of them, and a true gap of 0.2 almost always. Resampling seeds and
    problems both counts the sampling noise twice, so the interval is conservative: measured, 1 of
    200 null gaps excluded zero, and 200 of 200 true gaps did."""
    rng = np.random.default_rng(1)
    null = hit = 0
    for trial in range(200):
        easy = rng.uniform(0.3, 1.6, PROBLEMS)
        scores = students(rng, {"a": 0.5, "b": 0.5, "c": 0.3}, easy)
        _, gaps = paired_intervals(scores, groups=FAMILIES, resamples=500, seed=trial)
        null += gaps["b"].excludes_zero
        hit += gaps["c"].excludes_zero
    assert null <= 15
    assert hit >= 190


def test_identical_arms_tie_exactly_and_draws_are_deterministic():
    rng = np.random.default_rng(3)
    grid = rng.random((2, 40))
    arms, gaps = paired_intervals({"x": grid, "y": grid.copy()}, seed=5)
    assert gaps["y"] == Interval(0.0, 0.0, 0.0)
    again, _ = paired_intervals({"x": grid, "y": grid.copy()}, seed=5)
    assert again == arms
    other, _ = paired_intervals({"x": grid, "y": grid.copy()}, seed=6)
    assert other["x"].mean == arms["x"].mean and (other["x"].lo, other["x"].hi) != (arms["x"].lo, arms["x"].hi)


def test_one_seed_still_resamples_problems():
    rng = np.random.default_rng(0)
    grid = (rng.random((1, 100)) < 0.5).astype(float)
    arms, _ = paired_intervals({"x": grid}, seed=0)
    assert arms["x"].lo < arms["x"].mean < arms["x"].hi
    assert arms["x"].hi - arms["x"].lo == pytest.approx(2 * 1.96 * 0.05, abs=0.04)   # binomial sd 0.05


def test_pass1_interval_two_levels():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200)
    correct = rng.random((200, 8)) < p[:, None]
    iv = pass1_interval(correct, seed=0)
    assert iv.mean == pytest.approx(correct.mean())
    assert iv.lo < iv.mean < iv.hi and iv.hi - iv.lo < 0.2
    assert pass1_interval(correct, seed=0) == iv
    # one sample per problem: the problems alone
    single = pass1_interval(correct[:, :1], seed=0)
    assert single.mean == pytest.approx(correct[:, 0].mean()) and single.lo < single.mean < single.hi
    # every answer right: no spread
    assert pass1_interval(np.ones((5, 3), bool)) == Interval(1.0, 1.0, 1.0)
    # coverage: the true rate (0.5 everywhere) is inside the interval about 95% of the time
    inside = 0
    for t in range(200):
        iv = pass1_interval(rng.random((60, 4)) < 0.5, resamples=500, seed=t)
        inside += iv.lo <= 0.5 <= iv.hi
    assert 180 <= inside <= 198


def test_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        paired_intervals({"a": np.zeros((2, 5)), "b": np.zeros((2, 4))})
    with pytest.raises(ValueError, match="group labels"):
        paired_intervals({"a": np.zeros((2, 5))}, groups=[0, 1])
    with pytest.raises(ValueError, match="no problems"):
        pass1_interval(np.zeros((0, 3)))
