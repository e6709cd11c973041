"""What a curation library hands back to the stage that called it: the new columns, the numbers for
the manifest, and the notes of what it found nothing (or not everything) to work on.

Libraries never print and never see a stage's context: they return an `Outcome`, and the stage
copies it into its context (`StageContext.take`), where the recipe's `on_missing` decides whether a
note is a warning, an error at the recipe line, or a quiet line in the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass
class Outcome:
    columns: pl.DataFrame  # trace_id plus the new columns (one of them may be drop_reason)
    stats: dict = field(default_factory=dict)  # for the manifest, in the order they were found
    missing: list[str] = field(default_factory=list)  # nothing to work on: on_missing says what it is
