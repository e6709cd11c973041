"""`distillery synth --profile teachers`: raw outputs of several teachers, each in its own layout.

Real imports mix teachers whose outputs mark reasoning differently. This profile writes one JSON
Lines file per teacher, shaped as that teacher's outputs come (read them with `distillery ingest
FILE --name TEACHER`; the generic preset takes them without a map):

| teacher (default)              | layout (`curate.layouts`)  | the text                                  |
|--------------------------------|----------------------------|-------------------------------------------|
| deepseek-r1                    | think                      | `<think>\\n…\\n</think>\\n\\nanswer`          |
| deepseek-r1-distill-qwen-7b    | think_no_open              | `…\\n</think>\\n\\nanswer` (a cut-off one: no tag at all) |
| sky-t1-32b                     | thought                    | `<|begin_of_thought|>…` + `<|begin_of_solution|>…`    |
| s1.1-32b                       | s1                         | `think\\n…\\nanswer\\nAnswer: …`               |
| gemini-2.0-flash-thinking      | column                     | `reasoning_content` apart from `response`  |
| qwen2.5-math-7b-instruct       | none                       | a short solution, no reasoning markers     |

Columns: `problem`, `gold`, `source` (`synth/FAMILY`), `teacher`, `sample_idx`, the output
(`response`, and `reasoning_content` for the reasoning-column teacher), `finish_reason` (only
for teachers whose files record it) and `synth`, the row's truth.

Several teachers answer the same problems (each a share of them, some several times). Planted,
each recorded per row in the `synth` object (which ingest keeps in `meta.synth`):
- `truncated`: cut off mid-word as a token limit does; `finish_reason = 'length'` where the
  teacher's file records finish reasons (some datasets do not: then only the markers tell);
- `ill_posed`: problems with no definite answer (proofs, estimates, missing data): gold null;
- `premise_removed`: an answerable problem again with one premise sentence removed, so it cannot
  be answered (gold null, `premise_removed_from` = the original's problem_id, `removed` = the
  sentence); the original is in the corpus too;
- `boilerplate`: fresh problems (not from any benchmark) in benchmark wording: "What is the slope of
  the line passing through …", "… relatively prime positive integers. Find $m+n$.";
- `hard` problems (a `hard` share of the answerable ones) that teachers get wrong 75% of the time,
  so pass rates over the teachers' samples spread out (difficulty filters have something to keep);
- `wrong_answer`, the `layout` written, `closed` (whether the reasoning was closed), `family`.

Same config, same bytes (seeded generators only).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction as F
from math import gcd
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from curate import layouts, schema, store
from curate.errors import BadInput
from curate.synth import defects
from curate.synth.answers import Number, canonical, frac
from curate.synth.families import FAMILIES, ITEMS, NAMES, PLACES, Problem, Step, pick
from curate.synth.traces import Sample, write_response, write_thinking
from curate.text import normalize_for_dedup

HARD_WRONG = 0.75  # how often a teacher gets a hard problem wrong (so a few of its samples solve it)
SLOPE = "What is the slope of the line passing through"
COPRIME = "relatively prime positive integers. Find $m+n$."
BOILERPLATE = (SLOPE, COPRIME)


class Teacher(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="teacher name, also the file name")
    layout: str = Field(description="how its outputs mark the reasoning (a layout of curate.layouts)")
    share: float = Field(0.6, gt=0, le=1, description="fraction of the problems it answers")
    samples: int = Field(1, ge=1, le=8, description="samples per problem it answers")
    records_finish: bool = Field(True, description="whether its file has a finish_reason column")


DEFAULT_TEACHERS = (
    Teacher(name="deepseek-r1", layout=layouts.THINK, share=0.7, samples=2),
    Teacher(name="deepseek-r1-distill-qwen-7b", layout=layouts.THINK_NO_OPEN, share=0.6, samples=2),
    Teacher(name="sky-t1-32b", layout=layouts.THOUGHT, share=0.5, records_finish=False),
    Teacher(name="s1.1-32b", layout=layouts.S1_LINES, share=0.5, records_finish=False),
    Teacher(name="gemini-2.0-flash-thinking", layout=layouts.COLUMN, share=0.5),
    Teacher(name="qwen2.5-math-7b-instruct", layout=layouts.NONE, share=0.4),
)


class TeachersConfig(BaseModel):
    """Problems and who answers them. `problems` counts answerable base problems; ill-posed,
    premise-removed and boilerplate problems come on top at their rates (of `problems`)."""

    model_config = ConfigDict(extra="forbid")

    problems: int = Field(120, ge=4, description="answerable base problems (word-problem families)")
    seed: int = Field(0, ge=0)
    teachers: list[Teacher] = Field(default_factory=lambda: [t.model_copy() for t in DEFAULT_TEACHERS])
    truncated: float = Field(0.12, ge=0, le=0.5, description="share of rows cut off at the length limit")
    wrong_answer: float = Field(0.2, ge=0, le=0.9, description="share of answered rows with a wrong answer")
    hard: float = Field(0.2, ge=0, le=1, description="share of answerable problems that are hard: teachers get "
                                                      "them wrong at HARD_WRONG, the others at the rate that "
                                                      "keeps wrong_answer overall (as far as it can)")
    ill_posed: float = Field(0.1, ge=0, le=1, description="ill-posed problems without gold, per base problem")
    premise_removed: float = Field(0.1, ge=0, le=1, description="premise-removed variants, per base problem")
    boilerplate: float = Field(0.15, ge=0, le=1, description="benchmark-worded fresh problems, per base problem")

    def model_post_init(self, _ctx) -> None:
        unknown = [t.layout for t in self.teachers if t.layout not in layouts.LAYOUTS
                   or t.layout == layouts.FINAL_ANSWER]
        if unknown:
            raise ValueError(f"teacher layouts {unknown} unknown (known: think, think_no_open, thought, s1, "
                             f"column, none)")
        names = [t.name for t in self.teachers]
        if len(set(names)) != len(names) or not names:
            raise ValueError("teachers need distinct names (at least one)")


@dataclass
class Item:
    """One problem of the corpus with its truth."""

    problem: Problem
    text: str
    gold: str | None
    kind: str  # answerable, ill_posed, premise_removed, boilerplate
    extra: dict = field(default_factory=dict)


@dataclass
class TeachersResult:
    config: TeachersConfig
    rows: dict[str, list[dict]]  # teacher → raw rows as written
    planted: Counter = field(default_factory=Counter)
    written: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        total = sum(len(r) for r in self.rows.values())
        problems = len({r["problem"] for rs in self.rows.values() for r in rs})
        lines = [f"{total} raw teacher outputs over {problems} problems by {len(self.rows)} teachers, "
                 f"seed {self.config.seed}",
                 "teachers (layout, rows): " + ", ".join(f"{t.name} ({t.layout}, {len(self.rows[t.name])})"
                                                          for t in self.config.teachers),
                 "planted (rows): " + ", ".join(f"{k} {v}" for k, v in sorted(self.planted.items()))]
        if self.written:
            lines.append("written: " + ", ".join(str(p) for p in self.written))
            lines.append("ingest each: distillery ingest FILE --out TRACES --name TEACHER (layout auto-detected)")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------- problems

def _slope(rng: random.Random) -> Problem:
    while True:
        x1, x2 = rng.sample(range(-12, 13), 2)
        y1, y2 = rng.randint(-15, 15), rng.randint(-15, 15)
        q = F(y2 - y1, x2 - x1)
        if q != 0:
            break
    slots = {"x1": str(x1), "y1": str(y1), "x2": str(x2), "y2": str(y2)}
    sentences = [SLOPE + " $({x1}, {y1})$ and $({x2}, {y2})$?", "Express your answer as a common fraction."]
    steps = [Step(f"{y2} - ({y1})", str(y2 - y1)), Step(f"{x2} - ({x1})", str(x2 - x1)),
             Step(f"\\frac{{{y2 - y1}}}{{{x2 - x1}}}", frac(q))]
    wrong = (Number(1 / q), Number(-q), Number(q + 1))
    return Problem("boilerplate_slope", 2, 0, tuple(sentences), slots, Number(q), wrong, tuple(steps),
                   f"Rise over run: {y2 - y1} over {x2 - x1} gives {frac(q)}.", "the slope", 0)


def _coprime(rng: random.Random) -> Problem:
    r, b = rng.randint(3, 14), rng.randint(3, 14)
    p = F(r * (r - 1), (r + b) * (r + b - 1))
    m, n = p.numerator, p.denominator
    slots = {"r": str(r), "b": str(b), "items": "marbles"}
    sentences = ["A bag contains {r} red {items} and {b} blue {items}.",
                 "Two {items} are drawn at random without replacement.",
                 "The probability that both are red is $\\frac{{m}}{{n}}$, where $m$ and $n$ are " + COPRIME]
    steps = [Step(f"\\frac{{{r}}}{{{r + b}}} \\cdot \\frac{{{r - 1}}}{{{r + b - 1}}}", frac(p)),
             Step(f"{m} + {n}", str(m + n))]
    wrong = (Number(F(m + n + 1)), Number(F(r * r + (r + b) ** 2)), Number(F(m * n)))
    assert gcd(m, n) == 1  # Fraction keeps lowest terms: m and n are relatively prime
    return Problem("boilerplate_coprime", 3, 0, tuple(sentences), slots, Number(F(m + n)), wrong, tuple(steps),
                   f"{m} and {n} share no factor, so m + n = {m + n}.", "m + n", 0)


def _premise(rng: random.Random) -> Problem:
    """A long word problem of independent premises: removing any one leaves it unanswerable."""
    crates, per, sold, given = rng.randint(4, 30), rng.randint(6, 48), 0, 0
    total = crates * per
    sold, given = rng.randint(1, total // 2), rng.randint(1, total // 4)
    left = total - sold - given
    slots = {"name": pick(rng, NAMES), "name2": pick(rng, NAMES), "place": pick(rng, PLACES),
             "items": pick(rng, ITEMS), "a": str(crates), "b": str(per), "c": str(sold), "e": str(given)}
    if slots["name2"] == slots["name"]:
        slots["name2"] = NAMES[(NAMES.index(slots["name"]) + 1) % len(NAMES)]
    # Long setting sentences around short numeric premises: removing one premise leaves a text
    # close to the original (word 5-gram Jaccard about 0.85), as MATH problems with a removed premise are.
    sentences = ["{name} runs a small {place} in the old part of town and keeps careful records of the stock.",
                 "Every Monday morning a truck brings new goods, and everything is counted before the shop opens.",
                 "This Monday the truck brought {a} crates of {items}.",
                 "Every crate held exactly {b} {items}.",
                 "During the week {name} sold {c} of the {items}.",
                 "On Friday {name} gave {e} of the {items} to {name2}.",
                 "No {items} were lost, broken or added during the week, and none were left over from before.",
                 "At the end of the week {name} counts what remains in the storeroom behind the counter.",
                 "How many {items} are in the storeroom at the end of the week?"]
    steps = [Step(f"{crates} \\times {per}", str(total)), Step(f"{total} - {sold} - {given}", str(left))]
    wrong = (Number(F(total - sold)), Number(F(left + per)), Number(F(total + given - sold)))
    return Problem("premises", 2, 0, tuple(sentences), slots, Number(F(left)), wrong, tuple(steps),
                   f"{left} + {sold} + {given} = {total}. Consistent.", "the number left", 0)


PREMISES = (2, 3, 4, 5)  # the sentences of `_premise` that hold a number the answer needs

ILL_POSED = (
    ("Prove that for every positive integer $n$, the number $n^{{{k}}} - n$ is divisible by {k}.", "proof"),
    ("Estimate how many {items} would fit inside a typical {place}.", "estimate"),
    ("{name} has some {items} and gives {k} of them to {name2}. How many {items} does {name} have now?",
     "missing data"),
    ("Find the most elegant way to write the number {k}{k}{k} as a sum of squares.", "subjective"),
    ("A triangle has two sides of length {k} and {k2}. What is its area?", "underdetermined"),
)


def _ill_posed(rng: random.Random) -> tuple[Problem, str]:
    template, why = pick(rng, ILL_POSED)
    k = pick(rng, (2, 3, 5, 7, 11, 13))
    guess = F(rng.randint(2, 400))
    slots = {"k": str(k), "k2": str(k + rng.randint(1, 9)), "name": pick(rng, NAMES), "name2": pick(rng, NAMES),
             "items": pick(rng, ITEMS), "place": pick(rng, PLACES)}
    steps = [Step("\\text{a guess}", str(guess.numerator))]
    return Problem("ill_posed", 5, 0, (template,), slots, Number(guess), (Number(guess + 1),), tuple(steps),
                   "There is no way to check this.", "what is asked", 0), why


def _items(cfg: TeachersConfig, rng: random.Random) -> list[Item]:
    seen: set[str] = set()
    items: list[Item] = []

    def add(item: Item) -> bool:
        key = normalize_for_dedup(item.text)
        if key in seen:
            return False
        seen.add(key)
        items.append(item)
        return True

    families = sorted(FAMILIES)
    base: list[Item] = []
    while len(base) < cfg.problems:
        if rng.random() < 0.25:
            problem = _premise(rng)
        else:
            problem = FAMILIES[pick(rng, families)](rng, rng.randint(1, 5))
        item = Item(problem, problem.text, _gold(problem), "answerable")
        if add(item):
            base.append(item)
    premised = [b for b in base if b.problem.family == "premises"]
    for i in range(round(cfg.premise_removed * cfg.problems)):
        if not premised:
            break
        src = premised[i % len(premised)]
        drop = PREMISES[rng.randrange(len(PREMISES))]  # a numeric premise (never the setting or the question)
        sentences = tuple(s for j, s in enumerate(src.problem.sentences) if j != drop)
        variant = replace(src.problem, sentences=sentences)
        removed = src.problem.sentences[drop].format(**src.problem.slots)
        add(Item(variant, variant.text, None, "premise_removed",
                 {"premise_removed_from": schema.problem_id(src.text), "removed": removed}))
    for _ in range(round(cfg.ill_posed * cfg.problems)):
        problem, why = _ill_posed(rng)
        add(Item(problem, problem.text, None, "ill_posed", {"why": why}))
    for i in range(round(cfg.boilerplate * cfg.problems)):
        problem = _slope(rng) if i % 2 == 0 else _coprime(rng)
        add(Item(problem, problem.text, _gold(problem), "boilerplate",
                 {"phrase": SLOPE if i % 2 == 0 else COPRIME}))
    return items


def _gold(problem: Problem) -> str:
    return canonical(problem.answer)


# ------------------------------------------------------------------------------------- outputs

def _wrap(layout: str, thinking: str, response: str, cut: bool) -> dict:
    """The teacher's output fields for its layout; `cut`: the text stops inside the reasoning."""
    if layout == layouts.THINK:
        return {"response": f"<think>\n{thinking}" if cut else f"<think>\n{thinking}\n</think>\n\n{response}"}
    if layout == layouts.THINK_NO_OPEN:
        return {"response": thinking if cut else f"{thinking}\n</think>\n\n{response}"}
    if layout == layouts.THOUGHT:
        head = f"<|begin_of_thought|>\n\n{thinking}"
        return {"response": head if cut else f"{head}\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n"
                                             f"{response}\n\n<|end_of_solution|>"}
    if layout == layouts.S1_LINES:
        return {"response": f"think\n{thinking}" if cut else f"think\n{thinking}\nanswer\nAnswer: {response}"}
    if layout == layouts.COLUMN:
        return {"reasoning_content": thinking, "response": "" if cut else response}
    return {"response": thinking if cut else response}  # none: what it writes is all response


def _output(item: Item, teacher: Teacher, rng: random.Random, truncated: bool, wrong: bool) -> tuple[dict, dict]:
    problem = item.problem
    noticed = item.kind == "premise_removed" and rng.random() < 0.4
    wrong = wrong and item.kind != "ill_posed" and not noticed
    value = pick(rng, problem.wrong) if wrong else problem.answer
    latex = canonical(value)
    length = rng.lognormvariate(0.5, 0.5)
    if item.kind == "ill_posed":
        length *= 4  # long, wandering reasoning on a question with no answer
    sample = Sample(value, latex, not wrong, length)
    paragraphs = write_thinking(problem, sample, rng)
    response = write_response(problem, sample, rng)
    if noticed:
        paragraphs.append("Wait, one of the numbers I need is not given in the problem. "
                          "Without it, the answer cannot be determined.")
        response = "The problem does not give enough information: $\\boxed{\\text{cannot be determined}}$"
    if teacher.layout == layouts.NONE:  # a non-reasoning model: a short worked solution only
        paragraphs, response = [], response
        if truncated:
            cut = response[: max(8, int(len(response) * rng.uniform(0.3, 0.8)))]
            return ({"response": cut}, {"closed": True, "answered": False, "answer": None, "wrong_answer": False,
                                        "noticed_missing_premise": False})
    if truncated and paragraphs:
        paragraphs = defects.truncate(rng, paragraphs)
    thinking = "\n\n".join(paragraphs)
    fields = _wrap(teacher.layout, thinking, response, truncated)
    return fields, {"closed": not truncated, "answered": not truncated, "answer": None if truncated else latex,
                    "wrong_answer": wrong and not truncated, "noticed_missing_premise": noticed and not truncated}


def generate(cfg: TeachersConfig) -> TeachersResult:
    rng = random.Random(f"{cfg.seed}/teachers")
    items = _items(cfg, rng)
    for item in items:  # drawn apart from the text, so `hard` never changes which problems there are
        if item.kind in ("answerable", "boilerplate"):
            item.extra["hard"] = rng.random() < cfg.hard
    easy = max(0.0, (cfg.wrong_answer - cfg.hard * HARD_WRONG) / (1 - cfg.hard)) if cfg.hard < 1 else 0.0
    wrong_rate = {True: max(HARD_WRONG, cfg.wrong_answer), False: min(easy, cfg.wrong_answer)}
    result = TeachersResult(cfg, {})
    for t_index, teacher in enumerate(cfg.teachers):
        trng = random.Random(f"{cfg.seed}/teachers/{t_index}/{teacher.name}")
        rows: list[dict] = []
        for item in items:
            if trng.random() >= teacher.share:
                continue
            for sample_idx in range(teacher.samples):
                truncated = trng.random() < cfg.truncated
                wrong = trng.random() < wrong_rate[item.extra.get("hard", False)]
                fields, truth = _output(item, teacher, trng, truncated, wrong)
                planted = [item.kind] if item.kind != "answerable" else []
                planted += [k for k, on in (("truncated", truncated), ("wrong_answer", truth.get("wrong_answer")))
                            if on]
                synth = {"family": item.problem.family, "kind": item.kind, "layout": teacher.layout,
                         "planted": planted, "answerable": item.gold is not None, **truth, **item.extra}
                row = {"problem": item.text, "gold": item.gold, **fields, "teacher": teacher.name,
                       "source": f"synth/{item.problem.family}", "sample_idx": sample_idx}
                if teacher.records_finish:
                    row["finish_reason"] = "length" if truncated else "stop"
                row["synth"] = synth
                rows.append(row)
                result.planted.update(planted)
                result.planted[f"layout:{teacher.layout}"] += 1
        result.rows[teacher.name] = rows
    return result


def write(cfg: TeachersConfig, out: Path | str) -> TeachersResult:
    """OUT/TEACHER.jsonl, one file per teacher (JSON Lines, keys sorted: same config, same bytes)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out}: exists and is not a folder")
    result = generate(cfg)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in result.rows.items():
        text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
        result.written.append(store.write_text(text, out / f"{name}.jsonl"))
    return result
