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

import json
from typing import ClassVar, Literal

import polars as pl
from pydantic import Field

from curate.gold_audit import AuditOptions, audit
from curate.stages import DROP, Stage, StageConfig, StageContext, register


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
    summary_reads = ("gold",)  # the alive rows' columns `summarize` reads (default: all)
    Config = GoldAuditConfig
    replaces: ClassVar[tuple[str, ...]] = ("gold", "meta")   # action replace only; recorded in meta

    def run(self, frame: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        missing = [c for c in ("trace_id", "problem_id", "gold", "response") if c not in frame.columns]
        if missing:
            raise ctx.error(f"needs column(s) {', '.join(missing)}")
        out, stats = audit(frame, AuditOptions(cfg.min_samples, cfg.min_share, cfg.timeout_s, cfg.workers))
        stats["action"] = cfg.action
        ctx.stats.update(self.summarize(out, frame, stats))
        suspect = pl.col("gold_suspect")
        if cfg.action == "drop":
            out = out.with_columns(pl.when(suspect).then(
                pl.format("suspect gold: {} of the samples say {}", pl.col("majority_share").round(2),
                          pl.col("majority_answer"))).otherwise(None).alias(DROP))
        elif cfg.action == "replace":
            out = out.join(frame.select("trace_id", "gold", "meta"), on="trace_id", how="left", maintain_order="left")
            metas = [_recorded(m, g, a, s) if flag else m for m, g, a, s, flag in
                     out.select("meta", "gold", "majority_answer", "majority_share", "gold_suspect").iter_rows()]
            out = out.with_columns(pl.when(suspect).then(pl.col("majority_answer")).otherwise(pl.col("gold")).alias("gold"),
                                   pl.Series("meta", metas, pl.String))
            ctx.stats["replaced_rows"] = stats["suspect_rows"]
        return out


    def summarize(self, out: pl.DataFrame, frame: pl.DataFrame, merged: dict) -> dict:
        """`merged` (counts over every problem) with the warning about the whole frame: an engine
        that runs the stage per group of problems calls this once, on everything gathered."""
        stats = {k: v for k, v in merged.items() if k != "warning"}
        if frame["gold"].null_count() == frame.height:
            stats["warning"] = "no row has a gold answer: nothing to audit"
        elif stats["problems_with_min_samples"] == 0:
            stats["warning"] = (f"no problem has {self.config.min_samples} or more samples with an answer: "
                                "nothing to audit (gold_audit needs several samples per problem)")
        return stats


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
