"""`distillery verify`: verify a column of answers in a Parquet or JSONL file against a gold column.

OUT holds every input column plus `pred_answer`, `verdict` and `verdict_reason`. The input is
checked before any work starts, and OUT is written atomically, so bad input writes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from curate import store
from curate.errors import BadInput
from curate.verify.batch import VERDICTS, verify_batch
from curate.verify.options import Options

OUTPUT_COLUMNS = ("pred_answer", "verdict", "verdict_reason")


@dataclass
class VerifySummary:
    out: Path
    rows: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def rows_of_table(self) -> list[tuple[str, int, str]]:
        """(verdict, count, share) for every verdict, in a fixed order."""
        return [(v, self.counts.get(v, 0), f"{self.counts.get(v, 0) / max(self.rows, 1):.1%}") for v in VERDICTS]


def verify_file(input: Path, gold_col: str, pred_col: str, out: Path, timeout: float = 5.0,
                workers: int | None = None, options: Options = Options(), progress=None) -> VerifySummary:
    import time

    start = time.monotonic()
    table = store.read_table(Path(input))
    for col in (gold_col, pred_col):
        if col not in table.column_names:
            raise BadInput(f"{input}: no column {col!r} (columns: {', '.join(table.column_names)})")
    clash = [c for c in OUTPUT_COLUMNS if c in table.column_names]
    if clash:
        raise BadInput(f"{input}: already has column(s) {', '.join(clash)}; rename or drop them first")
    golds, preds = _texts(table, gold_col, input), _texts(table, pred_col, input)
    verdicts = verify_batch(golds, preds, timeout=timeout,
                            workers=workers, options=options, progress=progress)
    table = table.append_column("pred_answer", pa.array([v.pred_answer for v in verdicts], pa.string()))
    table = table.append_column("verdict", pa.array([v.verdict for v in verdicts], pa.string()))
    table = table.append_column("verdict_reason", pa.array([v.reason for v in verdicts], pa.string()))
    store.write_parquet(table, Path(out))
    counts = Counter(v.verdict for v in verdicts)
    return VerifySummary(out=Path(out), rows=table.num_rows, counts=dict(counts),
                         seconds=time.monotonic() - start)


def _texts(table: pa.Table, col: str, where: Path) -> list[str | None]:
    """A column as strings: text as is, numbers (gold answers often are) written out."""
    kind = table[col].type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return table[col].to_pylist()
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return [None if v is None else str(v) for v in table[col].to_pylist()]
    raise BadInput(f"{where}: column {col!r} holds {kind}, not text or numbers")
