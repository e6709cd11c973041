"""`distillery synth --profile procedural`: a pool a tiny student can learn from in minutes on a CPU.

Four families of procedural arithmetic, each solved by a digit-by-digit teacher trace in `<think>`:

    addition         What is 4827 + 394?       7+4+0=11 1 / 2+9+1=12 21 / 8+3+1=12 221 / 4+0+1=5 5221
    subtraction      What is 523 - 498?        13-8-0=5 b1 5 / 12-9-1=2 b1 25 / 5-4-1=0 b0 025
    multiplication   What is 347 * 6?          7*6+0=42 2 / 4*6+4=28 82 / 3*6+2=20 082 / carry 2 2082
    linear           Solve for x: 7x + 12 = 61.  61-12: / 11-2-0=9 b1 9 / 6-1-1=4 b0 49 / 49/7: 7*7=49 / x=7

Each line takes the next column from the right and writes the answer so far (the new digit in
front of the last line's digits), so every step is local: a 2-layer student with one token per
digit learns it. The pool carries what curation has to remove, each recorded in `meta.defects`:

- `wrong_answer`: one slipped step (a digit off by one) carried through to a wrong final answer;
- `truncated`: the trace stops mid-way (`finish_reason = 'length'`, no answer);
- `repetition`: a line repeated in a loop (mostly running into the length limit; some recover);
- `missing_boxed`: a right answer written without `\\boxed{}`;
- `duplicate` / `near_duplicate`: an earlier problem again, verbatim up to case and punctuation,
  or with a filler phrase around the same numbers (`meta.dup_of_problem`);

and an unbalanced family mix (`mix`). The held-out split (`OUT/heldout/`) holds clean traces of
`heldout` problems per family whose operands never occur in the pool: `distillery eval --bench
OUT/heldout` grades a student on it per family.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from curate import schema, store
from curate.errors import BadInput

FAMILIES = ("addition", "subtraction", "multiplication", "linear")
TEMPLATES = {
    "addition": ("What is {a} + {b}?", "Compute {a} + {b}.", "Add {a} and {b}."),
    "subtraction": ("What is {a} - {b}?", "Compute {a} - {b}.", "Subtract {b} from {a}."),
    "multiplication": ("What is {a} * {b}?", "Compute {a} * {b}.", "Multiply {a} by {b}."),
    "linear": ("Solve for x: {a}x + {b} = {c}.", "Find x if {a}x + {b} = {c}.", "If {a}x + {b} = {c}, what is x?"),
}
FILLERS = (("Quick question: ", ""), ("", " Show your steps."), ("Please answer: ", ""), ("", " Thanks!"))
HELDOUT_DIR = "heldout"
PREFIX = "procedural"


class ProceduralDefects(BaseModel):
    """Rates: `duplicate`/`near_duplicate` of problem instances, the rest of trace rows."""

    model_config = ConfigDict(extra="forbid")

    duplicate: float = Field(0.04, ge=0, le=0.5)
    near_duplicate: float = Field(0.04, ge=0, le=0.5)
    wrong_answer: float = Field(0.3, ge=0, le=0.9)
    truncated: float = Field(0.10, ge=0, le=0.5)
    repetition: float = Field(0.10, ge=0, le=0.5)
    missing_boxed: float = Field(0.03, ge=0, le=0.5)


class ProceduralConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(6_000, ge=1, description="pool rows (one teacher trace per problem instance)")
    heldout: int = Field(60, ge=0, description="held-out problems per family")
    seed: int = Field(0, ge=0)
    mix: dict[str, float] = Field(default_factory=lambda: {"addition": 0.5, "multiplication": 0.22,
                                                           "subtraction": 0.16, "linear": 0.12},
                                  description="share of pool problems per family (unbalanced on purpose)")
    defects: ProceduralDefects = Field(default_factory=ProceduralDefects)
    teacher: str = "procedural-teacher"

    @field_validator("mix")
    @classmethod
    def _mix(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(FAMILIES))
        if unknown or not value or any(v < 0 for v in value.values()) or sum(value.values()) <= 0:
            raise ValueError(f"mix needs weights >= 0 for known families ({', '.join(FAMILIES)}), not all zero"
                             + (f"; unknown: {unknown}" if unknown else ""))
        return value


@dataclass(frozen=True)
class Problem:
    family: str
    operands: tuple[int, ...]
    answer: int

    def text(self, template: int) -> str:
        a, b = self.operands[:2]
        c = self.operands[2] if len(self.operands) > 2 else None
        return TEMPLATES[self.family][template].format(a=a, b=b, c=c)


# ----------------------------------------------------------------------------------- problems

def draw(family: str, rng: random.Random) -> Problem:
    if family == "addition":
        a, b = (rng.randrange(10 ** (d - 1), 10 ** d) for d in (rng.randint(2, 3), rng.randint(2, 3)))
        return Problem(family, (a, b), a + b)
    if family == "subtraction":
        a = rng.randrange(10, 10 ** rng.randint(2, 3))
        b = rng.randrange(1, a)
        return Problem(family, (a, b), a - b)
    if family == "multiplication":
        a, b = rng.randrange(10, 10 ** rng.randint(2, 3)), rng.randint(2, 9)
        return Problem(family, (a, b), a * b)
    a, x, b = rng.randint(2, 9), rng.randint(1, 9), rng.randint(1, 40)
    return Problem(family, (a, b, a * x + b), x)


def digits(n: int, width: int) -> list[int]:
    """The digits of n from the right, padded with zeros to `width`."""
    return [(n // 10 ** i) % 10 for i in range(width)]


# ------------------------------------------------------------------------------------- traces

Slip = tuple[int, str]   # (step, "digit": its result off by one | "carry": the carry or borrow into it forgotten)


def _columns(op: str, a: int, b: int, slip: Slip | None) -> tuple[list[str], int]:
    """Column by column from the right: `+` and `-` of two numbers, `*` by one digit b. Each line
    ends with the answer so far; a slipped step is carried through every later one."""
    width = max(len(str(a)), len(str(b))) if op == "+" else len(str(a))
    da, db = digits(a, width), digits(b, width)
    lines, written, carry = [], "", 0
    for i in range(width):
        carry_in = 0 if slip == (i, "carry") else carry
        off = 1 if slip == (i, "digit") else 0
        if op == "+":
            s = da[i] + db[i] + carry_in + off
            d, carry, line = s % 10, s // 10, f"{da[i]}+{db[i]}+{carry_in}={s}"
        elif op == "-":
            borrow = 1 if da[i] - carry_in < db[i] else 0
            top = da[i] + 10 * borrow
            d = (top - db[i] - carry_in + off) % 10
            carry, line = borrow, f"{top}-{db[i]}-{carry_in}={d} b{borrow}"
        else:
            s = da[i] * b + carry_in + off
            d, carry, line = s % 10, s // 10, f"{da[i]}*{b}+{carry_in}={s}"
        written = f"{d}{written}"
        lines.append(f"{line} {written}")
    if carry and op != "-":
        written = f"{carry}{written}"
        lines.append(f"carry {carry} {written}")
    return lines, int(written)


def solve(p: Problem, slip: Slip | None = None) -> tuple[list[str], int]:
    """The teacher's lines and final answer, with at most one slipped step (a wrong final answer)."""
    if p.family != "linear":
        op = {"addition": "+", "subtraction": "-", "multiplication": "*"}[p.family]
        return _columns(op, p.operands[0], p.operands[1], slip)
    a, b, c = p.operands
    sub, rhs = _columns("-", c, b, slip)
    # the division is a times-table fact; a slip in it (or a wrong difference) gives a wrong fact
    x = max(1, round(rhs / a)) + (1 if slip == (len(sub), "digit") else 0)
    return [f"{c}-{b}:", *sub, f"{rhs}/{a}: {a}*{x}={rhs}", f"x={x}"], x


def slipped(p: Problem, rng: random.Random) -> tuple[list[str], int]:
    """One slipped step carried to a wrong final answer: a digit off by one, or a carry (borrow)
    forgotten where there was one; redrawn until the answer is wrong."""
    steps = len(solve(p)[0]) - (3 if p.family == "linear" else 0) + (1 if p.family == "linear" else 0)
    for _ in range(32):
        slip = (rng.randrange(steps), "carry" if rng.random() < 0.5 else "digit")
        lines, value = solve(p, slip)
        if value != p.answer:
            return lines, value
    return solve(p, (0, "digit"))   # the first step off by one always changes the answer


@dataclass
class Row:
    problem: Problem
    text: str
    kind: str = "original"          # original, duplicate, near_duplicate
    dup_of: str | None = None


def _trace(row: Row, flags: dict[str, bool], rng: random.Random) -> dict:
    p = row.problem
    if flags["wrong_answer"]:
        lines, value = slipped(p, rng)
    else:
        lines, value = solve(p)
    defects = [row.kind] if row.kind != "original" else []
    finish, response, extra = "stop", f"\\boxed{{{value}}}", {}
    if flags["repetition"]:
        at = rng.randrange(len(lines))
        times = rng.randint(4, 8)
        lines = [*lines[:at + 1], *[lines[at]] * times, *lines[at + 1:]]
        extra["repeats"] = times
        defects.append("repetition")
        if rng.random() < 0.7:                       # most loops run into the length limit
            lines, finish, response = lines[:at + 1 + times], "length", ""
    if flags["truncated"] and finish == "stop" and not flags["repetition"]:
        lines, finish, response = lines[:rng.randint(1, max(1, len(lines) - 1))], "length", ""
        defects.append("truncated")
    if flags["wrong_answer"]:
        defects.append("wrong_answer")
    if flags["missing_boxed"] and finish == "stop":
        response = f"The answer is {value}."
        defects.append("missing_boxed")
    answered = finish == "stop"
    meta = {"family": p.family, "operands": list(p.operands), "defects": defects,
            "correct": answered and value == p.answer and "missing_boxed" not in defects,
            "answer": str(value) if answered else None, "dup_of_problem": row.dup_of,
            "difficulty": len(str(max(p.operands[:2]))), **extra}
    return {"source": f"procedural/{p.family}", "problem": row.text, "gold": str(p.answer),
            "thinking": "\n".join(lines), "response": response, "finish_reason": finish,
            "meta": json.dumps(meta, sort_keys=True), "_defects": defects}


# -------------------------------------------------------------------------------------- corpus

@dataclass
class ProceduralResult:
    config: ProceduralConfig
    traces: pa.Table
    heldout: pa.Table
    defect_counts: Counter = field(default_factory=Counter)
    written: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        import polars as pl

        frame = pl.from_arrow(self.traces.select(["source", "meta"]))
        fams = frame["source"].str.strip_prefix("procedural/").value_counts(sort=True).rows()
        correct = frame["meta"].str.json_path_match("$.correct").eq("true").mean() or 0.0
        lines = [f"{self.traces.num_rows} procedural teacher traces, seed {self.config.seed}; {correct:.0%} correct",
                 "families (rows): " + ", ".join(f"{k} {v}" for k, v in fams),
                 "defects (rows): " + ", ".join(f"{k} {v}" for k, v in sorted(self.defect_counts.items())),
                 f"held-out: {self.heldout.num_rows} problems ({self.config.heldout} per family), "
                 f"no operands shared with the pool"]
        if self.written:
            lines.append("written: " + ", ".join(str(p) for p in self.written))
        return "\n".join(lines)


def _fresh(family: str, rng: random.Random, seen: set) -> Problem:
    for _ in range(10_000):
        p = draw(family, rng)
        if (family, p.operands) not in seen:
            seen.add((family, p.operands))
            return p
    raise BadInput(f"synth --profile procedural: family {family} ran out of distinct problems; ask for fewer rows (--n)")


def _table(rows: list[dict], teacher: str) -> pa.Table:
    """The default profile's table builder, after numbering samples per problem id: a verbatim
    duplicate is another sample of the same problem."""
    from curate.synth.rows import trace_table as synth_table

    seen: Counter = Counter()
    for r in rows:
        pid = schema.problem_id(r["problem"])
        r["sample_idx"] = seen[pid]
        seen[pid] += 1
    return synth_table(rows, [teacher] * len(rows))


def generate(cfg: ProceduralConfig) -> ProceduralResult:
    rng = random.Random(f"{cfg.seed}/procedural")
    nrng = np.random.default_rng([cfg.seed, 7])
    names = [f for f in FAMILIES if cfg.mix.get(f, 0) > 0]
    weights = np.array([cfg.mix[f] for f in names], dtype=float)
    seen: set = set()
    d = cfg.defects
    # held-out first: its operands are reserved, so no pool problem repeats them
    held = [Row(p, p.text(rng.randrange(3))) for f in FAMILIES for p in
            (_fresh(f, rng, seen) for _ in range(cfg.heldout))]
    u = nrng.random(cfg.n)
    kinds = np.where(u < d.duplicate, 1, np.where(u < d.duplicate + d.near_duplicate, 2, 0))
    kinds[0] = 0
    fam = nrng.choice(len(names), size=cfg.n, p=weights / weights.sum())
    originals: list[Row] = []
    rows: list[Row] = []
    for i in range(cfg.n):
        if kinds[i] == 0 or not originals:
            p = _fresh(names[fam[i]], rng, seen)
            row = Row(p, p.text(rng.randrange(3)))
            originals.append(row)
        else:
            src = originals[rng.randrange(len(originals))]
            pid = schema.problem_id(src.text)
            if kinds[i] == 1:
                text = src.text.lower() if rng.random() < 0.5 else src.text.rstrip(".?") + ("?" if src.text.endswith(".") else ".")
                row = Row(src.problem, text, "duplicate", pid)
            else:
                pre, post = FILLERS[rng.randrange(len(FILLERS))]
                row = Row(src.problem, f"{pre}{src.text}{post}", "near_duplicate", pid)
        rows.append(row)
    flags = {name: nrng.random(cfg.n) < getattr(d, name)
             for name in ("wrong_answer", "truncated", "repetition", "missing_boxed")}
    out, tally = [], Counter()
    for i, row in enumerate(rows):
        t = _trace(row, {k: bool(v[i]) for k, v in flags.items()}, rng)
        tally.update(t.pop("_defects"))
        out.append(t)
    clean = [_trace(r, dict.fromkeys(flags, False), rng) for r in held]
    for t in clean:
        t.pop("_defects")
    return ProceduralResult(cfg, _table(out, cfg.teacher), _table(clean, cfg.teacher), tally)


def write(cfg: ProceduralConfig, out: Path | str) -> ProceduralResult:
    """OUT/procedural-NNNNN.parquet (the pool) and OUT/heldout/procedural-NNNNN.parquet."""
    out = Path(out)
    result = generate(cfg)
    result.written = store.save_traces(result.traces, out, prefix=PREFIX)
    if result.heldout.num_rows:
        result.written += store.save_traces(result.heldout, out / HELDOUT_DIR, prefix=PREFIX)
    return result
