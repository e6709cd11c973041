"""What a curation library hands back to its caller: the new columns, the numbers for the
manifest, and warnings (what it found nothing, or not everything, to work on).

Libraries never print and never see a stage's context: they return an `Outcome`, and a stage
copies it into its context (`StageContext.take`), where the recipe's `on_missing` decides whether a
warning is a warning line, an error at the recipe line, or a quiet line in the manifest; a command
prints the warnings itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass
class Outcome:
    # The new columns (one of them may be drop_reason), one row per input row: with trace_id, except
    # where a library also serves tables without one (dedup_table and decontaminate: input order).
    columns: pl.DataFrame
    stats: dict = field(default_factory=dict)  # for the manifest, in the order they were found
    warnings: list[str] = field(default_factory=list)  # for the caller to show: a library prints nothing
