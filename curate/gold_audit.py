"""Suspect gold answers: where the samples of a problem agree on one answer and the gold says another.

Teams repair wrong reference answers by comparing a teacher's majority vote with the given answer
(AM-Thinking with R1's votes). `audit(frame)` does that for every problem with several samples
(several teachers, or n samples per teacher):

1. each sample's final answer: `extract_answer` of the response; where the response is empty (a
   thinking-only or cut-off sample), of the end of the thinking; samples without one do not vote;
2. the answers of one problem grouped by the verifier (`verify_batch` on every pair of distinct
   answers, and on the gold against each, in one batch; equal ones join one group): `\\frac12`,
   `0.5` and `1/2` are one vote;
3. the largest group is the majority (ties: the group whose most frequent text sorts first);
   `majority_share` = its votes / the samples with an answer;
4. the gold against every distinct text of the majority group: `gold_agrees` when the verifier
   calls any of them correct, false when it calls them incorrect, null when it cannot say (no gold,
   no answers, only unparseable pairs).

`gold_suspect` is a *confident* majority (at least `min_samples` answers, share at least
`min_share`) that the verifier says differs from the gold. `audit_golds` then does what the
gold_audit stage's `action` says with a suspect gold (keep, drop or replace).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl

from curate.errors import BadInput
from curate.outcome import Outcome
from curate.schema import DROP
from curate.verify import extract_answer, verify_batch
from curate.verify.traces import THINKING_TAIL_CHARS  # where a final answer in the thinking would be

COLUMNS = ("majority_answer", "majority_share", "audit_answers", "gold_agrees", "gold_suspect")


@dataclass(frozen=True)
class AuditOptions:
    min_samples: int = 3
    min_share: float = 0.55
    timeout: float = 5.0
    workers: int | None = None


def answers(frame: pl.DataFrame) -> list[str | None]:
    """Each row's final answer (None: none found)."""
    thinking = frame["thinking"].to_list() if "thinking" in frame.columns else [None] * frame.height
    out = []
    for response, think in zip(frame["response"].to_list(), thinking):
        if response and response.strip():
            found = extract_answer(response)
        elif think:
            found = extract_answer(think[-THINKING_TAIL_CHARS:])
        else:
            found = None
        out.append(found.strip() if found and found.strip() else None)
    return out


class _Groups:
    """Union-find over the distinct answers of one problem."""

    def __init__(self, items: list[str]):
        self.parent = {x: x for x in items}

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def audit(frame: pl.DataFrame, options: AuditOptions = AuditOptions()) -> tuple[pl.DataFrame, dict]:
    """(one row per trace_id with the COLUMNS, stats). `frame` needs trace_id, problem_id, gold,
    response (thinking optional)."""
    frame = frame.select("trace_id", "problem_id", "gold", "response",
                         *(["thinking"] if "thinking" in frame.columns else []))
    rows = frame.select("trace_id", "problem_id", "gold").with_columns(pl.Series("_answer", answers(frame), pl.String))
    votes = (rows.filter(pl.col("_answer").is_not_null()).group_by("problem_id", "_answer").len("votes")
             .sort("problem_id", "votes", "_answer", descending=[False, True, False]))
    by_problem: dict[str, list[tuple[str, int]]] = {}
    for pid, answer, n in votes.iter_rows():
        by_problem.setdefault(pid, []).append((answer, n))

    # 2. every pair of distinct answers of a problem, and the gold against each distinct answer:
    # one batch, so the verifier's workers start once
    gold_of = dict(rows.group_by("problem_id").agg(pl.col("gold").drop_nulls().first()).iter_rows())
    pairs = [(pid, a, b) for pid, items in by_problem.items()
             for i, (a, _) in enumerate(items) for b, _ in items[i + 1:]]
    checks = [(pid, a) for pid, items in by_problem.items() for a, _ in items]
    golds = [a for _, a, _ in pairs] + [gold_of.get(pid) for pid, _ in checks]
    preds = [b for _, _, b in pairs] + [a for _, a in checks]
    verdicts = verify_batch(golds, preds, timeout=options.timeout, workers=options.workers,
                            extract=False) if preds else []
    groups = {pid: _Groups([a for a, _ in items]) for pid, items in by_problem.items()}
    for (pid, a, b), v in zip(pairs, verdicts):
        if v.verdict == "correct":
            groups[pid].join(a, b)
    against_gold = {(pid, a): v.verdict for (pid, a), v in zip(checks, verdicts[len(pairs):])}

    # 3. the majority group of each problem
    majority: dict[str, tuple[str, list[str], int, int]] = {}   # pid -> (answer, members, votes, answered)
    for pid, items in by_problem.items():
        sizes: dict[str, int] = {}
        members: dict[str, list[str]] = {}
        for answer, n in items:
            root = groups[pid].find(answer)
            sizes[root] = sizes.get(root, 0) + n
            members.setdefault(root, []).append(answer)   # most votes first (items are sorted so)
        best = min(sizes, key=lambda r: (-sizes[r], members[r][0]))
        majority[pid] = (members[best][0], members[best], sizes[best], sum(n for _, n in items))

    # 4. what the verifier said of the gold against the majority group's texts
    said = {pid: {against_gold[(pid, m)] for m in members} for pid, (_, members, _, _) in majority.items()}

    records = []
    for pid, (answer, _, n, answered) in majority.items():
        kinds = said.get(pid, set())
        agrees = True if "correct" in kinds else False if "incorrect" in kinds else None
        share = n / answered
        confident = answered >= options.min_samples and share >= options.min_share
        records.append({"problem_id": pid, "majority_answer": answer, "majority_share": share,
                        "audit_answers": answered, "gold_agrees": agrees,
                        "gold_suspect": bool(confident and agrees is False)})
    per_problem = pl.DataFrame(records, schema={"problem_id": pl.String, "majority_answer": pl.String,
                                                "majority_share": pl.Float64, "audit_answers": pl.Int64,
                                                "gold_agrees": pl.Boolean, "gold_suspect": pl.Boolean})
    out = (rows.select("trace_id", "problem_id").join(per_problem, on="problem_id", how="left", maintain_order="left")
           .with_columns(pl.col("audit_answers").fill_null(0), pl.col("gold_suspect").fill_null(False)))
    problems = rows["problem_id"].n_unique()
    judged_problems = per_problem.filter(pl.col("audit_answers") >= options.min_samples)
    stats = {"problems": problems, "problems_with_answers": per_problem.height,
             "problems_with_min_samples": judged_problems.height,
             "gold_agrees": int(per_problem["gold_agrees"].sum() or 0),
             "gold_disagrees": int((per_problem["gold_agrees"] == False).sum() or 0),  # noqa: E712
             "suspect_problems": int(per_problem["gold_suspect"].sum() or 0),
             "suspect_rows": int(out["gold_suspect"].sum() or 0)}
    return out.drop("problem_id"), stats


def audit_golds(frame: pl.DataFrame, options: AuditOptions = AuditOptions(), action: str = "keep") -> Outcome:
    """The gold_audit stage's work: `audit`, then what `action` does with a suspect gold: keep (the
    columns only), drop (its problem's rows, with the majority in the reason) or replace (the gold
    by the majority answer, the old one recorded in meta.gold_audit: new `gold` and `meta`)."""
    missing = [c for c in ("trace_id", "problem_id", "gold", "response") if c not in frame.columns]
    if missing:
        raise BadInput(f"needs column(s) {', '.join(missing)}")
    out, stats = audit(frame, options)
    stats["action"] = action
    result = summary(frame, stats, options.min_samples)
    suspect = pl.col("gold_suspect")
    if action == "drop":
        out = out.with_columns(pl.when(suspect).then(
            pl.format("suspect gold: {} of the samples say {}", pl.col("majority_share").round(2),
                      pl.col("majority_answer"))).otherwise(None).alias(DROP))
    elif action == "replace":
        out = out.join(frame.select("trace_id", "gold", "meta"), on="trace_id", how="left", maintain_order="left")
        metas = [_recorded(m, g, a, s) if flag else m for m, g, a, s, flag in
                 out.select("meta", "gold", "majority_answer", "majority_share", "gold_suspect").iter_rows()]
        out = out.with_columns(pl.when(suspect).then(pl.col("majority_answer")).otherwise(pl.col("gold")).alias("gold"),
                               pl.Series("meta", metas, pl.String))
        result.stats["replaced_rows"] = stats["suspect_rows"]
    result.columns = out
    return result


def summary(frame: pl.DataFrame, merged: dict, min_samples: int) -> Outcome:
    """`merged` (counts over every problem) with the warning about the whole frame: an engine that
    audits per group of problems calls this once, on everything gathered. A stage with nothing to
    audit says so as a warning (the run's warning line, `on_missing`), and in its stats as before."""
    stats = {k: v for k, v in merged.items() if k != "warning"}
    if frame["gold"].null_count() == frame.height:
        stats["warning"] = "no row has a gold answer: nothing to audit"
    elif stats["problems_with_min_samples"] == 0:
        stats["warning"] = (f"no problem has {min_samples} or more samples with an answer: "
                            "nothing to audit (gold_audit needs several samples per problem)")
    return Outcome(stats=stats, warnings=[stats["warning"]] if "warning" in stats else [])


def _recorded(meta: str | None, gold: str | None, majority: str, share: float) -> str:
    """meta with `gold_audit`: the gold it had, the majority that replaced it, and its share."""
    try:
        data = json.loads(meta) if meta else {}
    except ValueError:
        data = {"meta_unparsed": meta}
    if not isinstance(data, dict):
        data = {"meta_value": data}
    data["gold_audit"] = {"replaced_gold": gold, "majority_answer": majority, "majority_share": round(share, 4)}
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
