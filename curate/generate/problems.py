"""The problems a teacher is asked: any table with a problem column, or a benchmark by name
(resolved by `curate.benchmarks`). Repeated problems are asked once."""

from __future__ import annotations

from pathlib import Path

from curate.errors import BadInput


def load_problems(spec: str | Path, problem_column: str = "problem", gold_column: str | None = None,
                  bench_dir: str | Path | None = None, limit: int | None = None) -> tuple[str, list[dict]]:
    """(name, [{problem_id, problem, gold}]) from any table file with a problem column (gold:
    `gold_column`, else a `gold` or `answer` column if there is one), or a benchmark name
    (math500, aime24, …, resolved by `curate.benchmarks`). Repeated problems are asked once."""
    from curate import benchmarks, schema

    try:
        name, path, table = benchmarks.read(spec, bench_dir)
    except BadInput as exc:
        raise BadInput(f"PROBLEMS {exc}") from None
    if problem_column not in table.column_names:
        raise BadInput(f"{path}: no {problem_column!r} column (columns: {', '.join(table.column_names)}); "
                       "name it with --problem-column")
    if gold_column is None:
        gold_column = next((c for c in ("gold", "answer") if c in table.column_names), None)
    elif gold_column not in table.column_names:
        raise BadInput(f"{path}: no {gold_column!r} column (columns: {', '.join(table.column_names)})")
    problems = table.column(problem_column).to_pylist()
    golds = table.column(gold_column).to_pylist() if gold_column else [None] * len(problems)
    rows, seen = [], set()
    for i, (p, g) in enumerate(zip(problems, golds)):
        if not isinstance(p, str) or not p.strip():
            raise BadInput(f"{path}: row {i}: column {problem_column!r} is empty or not text")
        pid = schema.problem_id(p)
        if pid in seen:
            continue
        seen.add(pid)
        rows.append({"problem_id": pid, "problem": p, "gold": None if g is None else str(g)})
        if limit and len(rows) >= limit:
            break
    return name, rows

