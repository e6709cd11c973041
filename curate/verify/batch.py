"""Verify answers against references: one pair, or whole columns across worker processes.

Two rounds through the worker pool, both under its time limit:
1. extraction and normalisation of each distinct reference and response text;
2. judging (sympy) of each distinct normalised (gold, answer) pair that no cheap rule decides and
   the pool's cache does not hold.
In between, in this process: pairs whose normalised strings are equal are `correct`, plain numbers
(`curate.verify.numbers`) are compared exactly, text answers as words. The difficulty stage's
thousands of attempts that repeat a few answers cost one judgement per distinct pair.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from curate.verify import numbers
from curate.verify.options import Options
from curate.verify.pool import JudgePool

VERDICTS = ("correct", "incorrect", "no_answer", "unparseable", "no_gold", "timeout")
MIN_JUDGE_SECONDS = 0.05  # a pair whose extraction used its whole limit still gets a try
MAX_ANSWER_CHARS = 2000  # longer "answers" are prose or attacks, never a final answer
_WORDS = re.compile(r"^(?=[A-Za-z ]*[A-Za-z]{4})[A-Za-z][A-Za-z ]*[A-Za-z]$")  # has a 4-letter word


@dataclass(frozen=True)
class Verdict:
    verdict: str  # one of VERDICTS
    reason: str
    pred_answer: str | None = None
    gold_answer: str | None = None

    @property
    def correct(self) -> bool:
        return self.verdict == "correct"


def verify_pair(gold: str | None, pred: str | None, timeout: float = 5.0,
                options: Options = Options(), extract: bool = True) -> Verdict:
    """Verify one answer (for many, use `verify_batch`: it starts the workers once)."""
    return verify_batch([gold], [pred], timeout=timeout, workers=1, options=options, extract=extract)[0]


def verify_batch(golds: list[str | None], preds: list[str | None], timeout: float = 5.0,
                 workers: int | None = None, extract: bool = True, options: Options = Options(),
                 pool: JudgePool | None = None, progress=None, guess: list[bool] | None = None) -> list[Verdict]:
    """One Verdict per (gold, pred). Golds that are worked solutions give their boxed answers;
    `extract=False` takes `preds` as already-extracted answers. `guess[i]=False` reads only a box
    or an answer marker in `preds[i]` (for text that ends in reasoning, not in an answer).
    `progress(done, total)` hears how many distinct tasks the workers have done. Pass a started
    `pool` to reuse its workers and its cache of judged pairs across calls (its timeout and
    options then apply)."""
    if len(golds) != len(preds):
        raise ValueError(f"{len(golds)} golds but {len(preds)} predictions")
    golds = [g if g is None or isinstance(g, str) else str(g) for g in golds]  # 18 → "18"
    if not golds:
        return []
    options = pool.options if pool is not None else options
    owned = pool is None
    if owned:
        distinct = len(set(golds)) + len(set(preds))
        pool = JudgePool(min(workers or os.cpu_count() or 1, max(1, distinct // 8)), timeout=timeout,
                         options=options)
    try:
        guesses = guess if guess is not None else [True] * len(preds)
        if len(guesses) != len(preds):
            raise ValueError(f"{len(guesses)} guess flags but {len(preds)} predictions")
        gold_texts = [g for g in dict.fromkeys(golds) if g is not None]
        pred_keys = [k for k in dict.fromkeys(zip(preds, guesses)) if k[0] is not None]
        tasks = [("g", g) for g in gold_texts]
        tasks += [("p", p, options.fallback_last_number and ok, ok) if extract else ("b", p) for p, ok in pred_keys]
        results = pool.run(tasks, progress=progress)
        # Each pair's limit covers its extraction and its judgement together.
        spent = dict(zip([("g", g) for g in gold_texts] + [("p", k) for k in pred_keys], pool.elapsed))
        gold_info = dict(zip(gold_texts, results[:len(gold_texts)]))
        pred_info = dict(zip(pred_keys, results[len(gold_texts):]))
        verdicts: list[Verdict | None] = [None] * len(golds)
        to_judge: dict[tuple[str, str], list[int]] = {}
        left: dict[tuple[str, str], float] = {}
        for i, (gold, pred) in enumerate(zip(golds, preds)):
            g = gold_info.get(gold) if gold is not None else None
            p = pred_info.get((pred, guesses[i])) if pred is not None else None
            decided, key = _quick_verdict(g, p, options)
            if decided is not None:
                verdicts[i] = _verdict(decided, g, p)
            else:
                to_judge.setdefault(key, []).append(i)
                used = spent[("g", gold)] + spent[("p", (pred, guesses[i]))]
                left[key] = min(left.get(key, pool.timeout), max(MIN_JUDGE_SECONDS, pool.timeout - used))
        if to_judge:
            keys = list(to_judge)
            for key, result in zip(keys, pool.judge(keys, progress=progress, limits=[left[k] for k in keys])):
                for i in to_judge[key]:
                    verdicts[i] = _verdict(result, gold_info[golds[i]], pred_info[(preds[i], guesses[i])])
    finally:
        if owned:
            pool.close()
    return verdicts  # type: ignore[return-value]


def _verdict(decided: tuple[str, str], g, p) -> Verdict:
    verdict, reason = decided
    gold_answer = g[1] if g is not None and g[0] == "ok" else None
    pred_answer = p[1] if p is not None and p[0] == "ok" else None
    if p is not None and p[0] == "ok" and pred_answer is not None and p[3] not in ("boxed", "given"):
        reason = f"{reason} (answer from: {p[3]})"
    return Verdict(verdict, reason, pred_answer=pred_answer, gold_answer=gold_answer)


def _quick_verdict(g, p, options: Options):
    """((verdict, reason), None) when decided without sympy, else (None, normalised (gold, pred))."""
    if g is None:
        return ("no_gold", "no reference answer"), None
    if g[0] == "timeout":
        return ("timeout", f"reading the reference: {g[1]}"), None
    if p is None:
        return ("no_answer", "no response"), None
    if p[0] == "timeout":
        return ("timeout", f"finding the answer: {p[1]}"), None
    gold_answer, gold_norm = g[1], g[2]
    pred_answer, pred_norm, rule = p[1], p[2], p[3]
    if gold_answer is None:
        return ("no_gold", "no reference answer"), None
    if pred_answer is None:
        return ("no_answer", rule if rule != "given" else "no final answer found in the response"), None
    if len(gold_answer) > MAX_ANSWER_CHARS:
        return ("unparseable", f"gold: longer than {MAX_ANSWER_CHARS} characters"), None
    if len(pred_answer) > MAX_ANSWER_CHARS:
        return ("unparseable", f"answer: longer than {MAX_ANSWER_CHARS} characters"), None
    if not pred_norm:
        return ("no_answer", "the final answer is empty"), None
    if not gold_norm:
        return ("no_gold", "the reference answer is empty"), None
    if gold_norm == pred_norm:
        return ("correct", "same answer after normalisation"), None
    if _WORDS.match(gold_norm):  # a text answer ("Evelyn", "even") compares as text
        if gold_norm.casefold() == pred_norm.casefold():
            return ("correct", "same words"), None
        return ("incorrect", "different words"), None
    if _WORDS.match(pred_norm):
        return ("incorrect", "a word where the reference is math"), None
    same = plain_numbers_equal(gold_norm, pred_norm, options)
    if same is not None:
        return (("correct", "equal numbers") if same else ("incorrect", "different numbers")), None
    return None, (gold_norm, pred_norm)


def plain_numbers_equal(gold: str, pred: str, options: Options) -> bool | None:
    """Two plain numbers (see `curate.verify.numbers`) compared without sympy; None when either is
    something else."""
    g, p = numbers.plain(gold), numbers.plain(pred)
    if g is None or p is None:
        return None
    rounded = p if p.places is not None else g
    places = rounded.places if options.rounding == "given" else None
    percent = options.percent
    if g.percent and p.percent:
        percent = "strip"  # both percentages: their numbers are on one scale
    for gv in _percent_readings(g, percent):
        for pv in _percent_readings(p, percent):
            if numbers.close(gv, pv, places, rounded.digits, options.rel_tol, options.min_digits):
                return True
    return False


def _percent_readings(n: numbers.Plain, policy: str):
    if not n.percent:
        return [n.value]
    return {"fraction": [n.value / 100], "strip": [n.value], "either": [n.value / 100, n.value]}[policy]
