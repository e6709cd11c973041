"""What a curation library hands back to its caller: the new columns, the numbers for the
manifest, and warnings (what it found nothing, or not everything, to work on).

Libraries never print and never see a stage's context: they return an `Outcome`, and a stage
copies it into its context (`StageContext.take`), where the recipe's `on_missing` decides whether a
warning is a warning line, an error at the recipe line, or a quiet line in the manifest; a command
prints the warnings itself.

A library whose warnings or stats judge the whole table ("no row has a gold answer", a quantile)
also returns `counts`: additive figures over the rows it was given (rows, rows without gold,
problems…), never in the manifest. It turns them into its warnings and stats with one function of
its own (its `summary`), which it calls itself on the whole table; an engine that runs the library
on parts of the table (the Ray engine's blocks and problem partitions) adds the parts' counts up
and hands them to the same function through the stage's `summarize`, so both engines say the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from curate.parallel import Parts


@dataclass
class Outcome:
    # The new columns (one of them may be drop_reason), one row per input row: with trace_id, except
    # where a library also serves tables without one (dedup_table and decontaminate: input order);
    # a summary's Outcome has none. A library given its table as `curate.parallel.Parts` returns
    # its columns as Parts too (keyed by trace_id, on the workers that made them).
    columns: pl.DataFrame | Parts = field(default_factory=pl.DataFrame)
    stats: dict = field(default_factory=dict)  # for the manifest, in the order they were found
    warnings: list[str] = field(default_factory=list)  # for the caller to show: a library prints nothing
    counts: dict = field(default_factory=dict)  # additive figures for a whole-table summary (not in the manifest)
