"""gold_audit: flag problems whose samples confidently agree on an answer the gold contradicts.

```yaml
- gold_audit: {min_samples: 3, min_share: 0.55, action: keep}   # or drop, or replace
```
Adds `majority_answer`, `majority_share`, `audit_answers` (samples with an answer), `gold_agrees`
and `gold_suspect` to every row of a problem (`curate.gold_audit` says how they are computed).
`action` says what a suspect gold does:

- `keep`: nothing but the columns (look with `distillery sql RUN -q suspect_golds`);
- `drop`: the problem's rows are dropped (`suspect gold: …`);
- `replace`: the gold becomes the majority answer, and `meta.gold_audit` records the old gold,
  the majority and its share, so the change is never silent. A later verify stage grades against
  the new gold.

Run it before `verify`: it reads the answers itself, and `replace` must come before the grading.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import polars as pl
from pydantic import Field

from curate.gold_audit import AuditOptions, audit_golds, summary
from curate.outcome import Outcome
from curate.stages import Stage, StageConfig, StageContext, register


class GoldAuditConfig(StageConfig):
    min_samples: int = Field(3, ge=2, description="answers a problem needs before its majority is trusted")
    min_share: float = Field(0.55, gt=0.5, le=1.0, description="share of the answers the majority needs")
    action: Literal["keep", "drop", "replace"] = Field(
        "keep", description="a suspect gold: keep its rows (flag only), drop them, or replace the gold by the "
                            "majority answer (the old gold recorded in meta.gold_audit)")
    timeout_s: float = Field(5.0, gt=0, le=600, description="hard time limit per answer pair")
    workers: int | None = Field(None, ge=1, description="worker processes (default: one per core)")


@register
class GoldAudit(Stage):
    name = "gold_audit"
    execution = "problems"
    summary_reads = ("gold",)  # the alive rows' input columns `summarize` reads (none of its own)
    Config = GoldAuditConfig
    replaces: ClassVar[tuple[str, ...]] = ("gold", "meta")   # action replace only; recorded in meta

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        options = AuditOptions(cfg.min_samples, cfg.min_share, cfg.timeout_s, cfg.workers)
        return ctx.take(audit_golds(frame, options, cfg.action))

    def summarize(self, frame: pl.DataFrame, merged: Outcome) -> Outcome:
        """The merged stats (counts over every problem) with the warning about the whole frame: an
        engine that runs the stage per group of problems calls this once, on the gathered golds."""
        return summary(frame, merged.stats, self.config.min_samples)
