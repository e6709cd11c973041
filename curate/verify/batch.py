"""Verify answers against references: one pair, or whole columns across worker processes.

Extraction and normalisation run here, in the calling process (plain string work, no sympy).
Pairs whose normalised strings are equal are `correct` at once; the rest are judged in the worker
pool, each distinct (gold, answer) pair once, so repeated golds and answers cost nothing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from curate.verify.extract import extract_answer, extract_gold
from curate.verify.normalize import normalize
from curate.verify.options import Options
from curate.verify.pool import JudgePool

VERDICTS = ("correct", "incorrect", "no_answer", "unparseable", "no_gold", "timeout")
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
                 pool: JudgePool | None = None, progress=None) -> list[Verdict]:
    """One Verdict per (gold, pred). Golds that are worked solutions give their boxed answer;
    `extract=False` takes `preds` as already-extracted answers. `progress(done, total)` hears how
    many distinct pairs the workers have judged. Pass a started
    `pool` to reuse its workers across calls (its timeout and options then apply)."""
    if len(golds) != len(preds):
        raise ValueError(f"{len(golds)} golds but {len(preds)} predictions")
    options = pool.options if pool is not None else options
    verdicts: list[Verdict | None] = [None] * len(golds)
    to_judge: dict[tuple[str, str], list[int]] = {}
    answers: list[tuple[str | None, str | None]] = []
    for i, (gold, pred) in enumerate(zip(golds, preds)):
        gold_answer = extract_gold(gold if gold is None or isinstance(gold, str) else str(gold))  # 18 → "18"
        pred_answer = extract_answer(pred, options.fallback_last_number) if extract else _bare(pred)
        answers.append((gold_answer, pred_answer))
        decided, key = _quick_verdict(gold_answer, pred_answer)
        if decided is not None:
            verdicts[i] = Verdict(*decided, pred_answer=pred_answer, gold_answer=gold_answer)
        else:
            to_judge.setdefault(key, []).append(i)
    if to_judge:
        keys = list(to_judge)
        owned = pool is None
        pool = pool or JudgePool(min(workers or os.cpu_count() or 1, len(keys)), timeout=timeout, options=options)
        try:
            judged = pool.run(keys, progress=progress)
        finally:
            if owned:
                pool.close()
        for key, (verdict, reason) in zip(keys, judged):
            for i in to_judge[key]:
                verdicts[i] = Verdict(verdict, reason, pred_answer=answers[i][1], gold_answer=answers[i][0])
    return verdicts  # type: ignore[return-value]


def _quick_verdict(gold_answer: str | None, pred_answer: str | None):
    """((verdict, reason), None) when decided without sympy, else (None, normalised (gold, pred))."""
    if gold_answer is None:
        return ("no_gold", "no reference answer"), None
    if pred_answer is None:
        return ("no_answer", "no final answer found in the response"), None
    if len(gold_answer) > MAX_ANSWER_CHARS:
        return ("unparseable", f"gold: longer than {MAX_ANSWER_CHARS} characters"), None
    if len(pred_answer) > MAX_ANSWER_CHARS:
        return ("unparseable", f"answer: longer than {MAX_ANSWER_CHARS} characters"), None
    gold_norm, pred_norm = normalize(gold_answer), normalize(pred_answer)
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
    return None, (gold_norm, pred_norm)


def _bare(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip() or None
