"""One preset per dataset layout: how its columns map onto the trace columns.

Each preset is a function `(raw, options) -> Converted`; `common.assemble` then applies the rules
shared by all of them. Layouts are those the datasets' cards describe (R1, QwQ, s1.1, LIMO, Sky-T1,
OpenThoughts, …).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate import layouts
from curate.errors import BadInput
from curate.ingest.common import Converted, Raw, halves, is_list, is_text, split_column
from curate.verify.extract import last_boxed


@dataclass(frozen=True)
class Options:
    """The preset-specific command options (each preset reads only its own)."""

    mapping: str | None = None
    trace: str | None = None
    layout: str = layouts.AUTO


@dataclass(frozen=True)
class Preset:
    """A named layout; `takes_*` say which options it accepts, so a stray one is an error, not ignored."""

    name: str
    convert: Callable[[Raw, Options], Converted]
    takes_mapping: bool = False
    takes_trace: bool = False


# -------------------------------------------------------------------------------------------- s1K

@dataclass(frozen=True)
class S1Trace:
    thinking: str
    attempt: str
    teacher: str


GEMINI = "gemini-2.0-flash-thinking"
S1_TRACES = {
    "deepseek": S1Trace("deepseek_thinking_trajectory", "deepseek_attempt", "deepseek-r1"),
    "gemini": S1Trace("gemini_thinking_trajectory", "gemini_attempt", GEMINI),
}
S1_V1 = S1Trace("thinking_trajectories", "attempt", GEMINI)  # s1K v1.0: Gemini Flash Thinking
SHORT_GOLD_CHARS = 80


def s1k(raw: Raw, options: Options) -> Converted:
    """s1K v1.0 and s1K-1.1. `--trace deepseek|gemini` picks the teacher in 1.1 (default deepseek when
    its columns exist, else the v1.0 columns, which are Gemini's).

    The other teacher's columns (trace, attempt, grades) are not copied into meta: they describe
    another trace, not this one; import them as their own rows with `--trace … --name …`.
    Gold: `solution` is a reference solution, not an answer. Its last \\boxed{} is the gold when it
    has one; a short one-line solution (≤ 80 characters, e.g. "128") is itself the answer; otherwise
    gold is null. The full solution always stays in meta, for graders that read it.
    """
    layout = _column_layout(options)
    choice = _s1_choice(raw, options.trace)
    raw.require("question", choice.thinking, choice.attempt,
                why=f" with --trace {options.trace}" if options.trace else "")
    others = {S1_V1.thinking, S1_V1.attempt} | {
        column for name, t in S1_TRACES.items() if t != choice
        for column in (t.thinking, t.attempt, f"{name}_grade", f"{name}_grade_reason")}
    consumed = {"question", choice.thinking, choice.attempt} | others
    n = raw.table.num_rows
    gold: list[str | None] = [None] * n
    notes = [f"trace: {choice.thinking} / {choice.attempt} (teacher {choice.teacher})"]
    if raw.has("solution"):
        gold, kinds = _s1_gold(raw.texts("solution"))
        notes.append(f"gold from the solution's last \\boxed{{}}: {kinds['boxed']:,}, short solution taken "
                     f"as the answer: {kinds['short']:,}, none: {kinds['none']:,}")
    # The trajectory is a reasoning column of its own; a row whose trajectory is empty is read from
    # its attempt's markers, if it has any.
    parts, said = split_column(raw, [a or "" for a in raw.texts(choice.attempt)], layout,
                               reasoning=[t or "" for t in raw.texts_or_joined_lists(choice.thinking)])
    return Converted(
        rows=list(range(n)),
        problem=raw.texts("question"), problem_column="question", **halves(parts),
        gold=gold, consumed=consumed, default_teacher=choice.teacher, notes=notes + said)


def _column_layout(options: Options) -> str:
    if options.layout not in (layouts.AUTO, layouts.COLUMN):
        raise BadInput(f"--layout {options.layout}: this preset reads a separate reasoning column "
                       f"(--layout auto or column)")
    return options.layout


def _s1_choice(raw: Raw, trace: str | None) -> S1Trace:
    if trace is None:
        return S1_TRACES["deepseek"] if raw.has(S1_TRACES["deepseek"].thinking) else S1_V1
    if trace not in S1_TRACES:
        raise BadInput(f"--trace {trace}: unknown for preset s1k (known: {', '.join(S1_TRACES)})")
    chosen = S1_TRACES[trace]
    if trace == "gemini" and not raw.has(chosen.thinking):
        return S1_V1  # s1K v1.0: its only trace is Gemini's
    return chosen


def _s1_gold(solutions: list[str | None]) -> tuple[list[str | None], dict[str, int]]:
    gold: list[str | None] = []
    kinds = {"boxed": 0, "short": 0, "none": 0}
    for s in solutions:
        boxed = last_boxed(s)
        short = (s or "").strip()
        if boxed:
            kinds["boxed"] += 1
            gold.append(boxed)
        elif short and len(short) <= SHORT_GOLD_CHARS and "\n" not in short:
            kinds["short"] += 1
            gold.append(short)
        else:
            kinds["none"] += 1
            gold.append(None)
    return gold, kinds


# ------------------------------------------------------------------------------------ OpenThoughts

USER_ROLES = ["user", "human"]
ASSISTANT_ROLES = ["assistant", "gpt"]
TURNS = "a list of {from, value} turns"


def openthoughts(raw: Raw, options: Options) -> Converted:
    """OpenThoughts-114k / Bespoke-Stratos (ShareGPT `conversations`, reasoning in
    <|begin_of_thought|>…<|end_of_thought|>, answer in <|begin_of_solution|>…) and OpenThoughts3
    (reasoning inline in <think>…</think>). Problem: the first user turn; trace: the last assistant
    turn. Teacher defaults to deepseek-r1 for the <|begin_of_thought|> layout (OpenThoughts-114k and
    Bespoke-Stratos are R1 traces); other rows default to --teacher, else "unknown"."""
    raw.require("conversations")
    turns = raw.struct_list("conversations", ("from", "value"), TURNS)
    problem = _turn(turns, USER_ROLES, first=True)
    answer = _turn(turns, ASSISTANT_ROLES, first=False)
    missing = next((i for i, t in enumerate(answer) if t is None), None)
    if missing is not None:
        raise raw.row_error(missing, "column conversations has no assistant turn")
    parts, said = split_column(raw, answer, options.layout)
    # OpenThoughts-114k and Bespoke-Stratos (the <|begin_of_thought|> layout) are R1 traces.
    teacher = ["deepseek-r1" if p.layout == layouts.THOUGHT else None for p in parts]
    n = raw.table.num_rows
    return Converted(rows=list(range(n)), problem=problem, problem_column="conversations", **halves(parts),
                     consumed={"conversations"}, default_teacher=teacher, notes=said)


def _turn(turns: pl.Series, roles: list[str], first: bool) -> list[str | None]:
    """The text of the first (or last) turn whose role is one of `roles`, per row (columnar)."""
    picked = turns.list.eval(pl.element().filter(pl.element().struct.field("from").is_in(roles))
                             .struct.field("value"))
    return (picked.list.first() if first else picked.list.last()).to_list()


# ------------------------------------------------------------------------------------ OpenR1-Math

OPENR1_ALIGNED = ("finish_reasons", "correctness_math_verify", "is_reasoning_complete", "correctness_llama")


def openr1_math(raw: Raw, options: Options) -> Converted:
    """OpenR1-Math-220k: one row per element of `generations` (R1 text with <think>…</think>), with
    sample_idx = the generation's index, finish_reason from `finish_reasons` (null where that list is
    null or short), and that generation's `correctness_math_verify`, `is_reasoning_complete` and
    `correctness_llama` kept in meta as single values. Gold: `answer`. The `messages` column is a copy
    of one generation, so it is left out of meta rather than stored again with every row."""
    raw.require("problem", "generations")
    gen_type = raw.type_of("generations")
    if not (is_list(gen_type) and is_text(gen_type.value_type)):
        raise raw.wrong_type("generations", "a list of text")
    aligned = [c for c in OPENR1_ALIGNED if raw.has(c)]
    for c in aligned:
        if not (is_list(raw.type_of(c)) or pa.types.is_null(raw.type_of(c))):
            raise raw.wrong_type(c, "a list aligned with generations")
    # Flatten the generations with Arrow (no copy of the long texts), then number them per row.
    generations = raw.table.column("generations").combine_chunks()
    texts = pc.list_flatten(generations).to_pylist()
    index = pl.DataFrame({"row": pc.list_parent_indices(generations).to_numpy()})
    index = index.with_columns(pl.int_range(pl.len()).over("row").alias("sample_idx"))
    per_gen = index
    if aligned:
        lists = pl.from_arrow(raw.table.select(aligned))[index["row"]]
        per_gen = pl.concat([index, lists], how="horizontal").select(
            "row", "sample_idx", *[_nth(c, raw.type_of(c)) for c in aligned])
    rows = per_gen["row"].to_list()
    problems = raw.texts("problem")
    gold = raw.scalars_as_text("answer") if raw.has("answer") else [None] * raw.table.num_rows
    correctness = [c for c in aligned if c != "finish_reasons"]
    meta = per_gen.select(correctness).to_dicts() if correctness else None
    finish = per_gen["finish_reasons"].to_list() if "finish_reasons" in aligned else None
    parts, said = split_column(raw, texts, options.layout, finish)
    empty = raw.table.num_rows - per_gen["row"].n_unique()
    notes = [f"{raw.table.num_rows:,} problems → {per_gen.height:,} generations", *said]
    if empty:
        notes.append(f"{empty:,} problem(s) with no generations (no rows written for them)")
    return Converted(
        rows=rows, problem=[problems[r] for r in rows], problem_column="problem",
        **halves(parts), gold=[gold[r] for r in rows], finish_reason=finish, meta=meta,
        sample_idx=per_gen["sample_idx"].to_list(), default_teacher="deepseek-r1",
        consumed={"problem", "answer", "generations", "messages", *aligned}, notes=notes)


def _nth(column: str, arrow_type: pa.DataType) -> pl.Expr:
    """This generation's element of a per-generation list (null where the list is null or short)."""
    if pa.types.is_null(arrow_type):
        return pl.lit(None).alias(column)
    return pl.col(column).list.get(pl.col("sample_idx"), null_on_oob=True).alias(column)


# -------------------------------------------------------------------------------------------- LIMO

def limo(raw: Raw, options: Options) -> Converted:
    """GAIR/LIMO: `solution` is the whole reasoning, ending in a "**Final Answer**" section with
    \\boxed{}. Under `--layout auto`, a file without reasoning markers is read as layout
    `final_answer` (thinking: the text before the last such heading; response: that section; without
    the heading, the last paragraph when it holds \\boxed{}; otherwise the row fits no layout and
    its whole solution is the response), and rows with markers (<think>…) are split on them.
    Gold: `answer`."""
    raw.require("question", "solution")
    texts = [t or "" for t in raw.texts("solution")]
    layout = options.layout
    if layout == layouts.AUTO and layouts.detect(texts) == layouts.NONE:
        layout = layouts.FINAL_ANSWER
    parts, said = split_column(raw, texts, layout)
    if layout == layouts.FINAL_ANSWER and options.layout == layouts.AUTO:
        # marked rows in a file of unmarked ones: read by their own markers
        parts = [layouts.split(t, own) if (own := layouts.markers_of(t)) else p for t, p in zip(texts, parts)]
        said = [layouts.Detection(layouts.AUTO, layouts.FINAL_ANSWER, len(parts),
                                  Counter(p.layout for p in parts), sum(not p.closed for p in parts))
                .describe(raw.where)]
    n = raw.table.num_rows
    return Converted(
        rows=list(range(n)), problem=raw.texts("question"), problem_column="question", **halves(parts),
        gold=raw.scalars_as_text("answer") if raw.has("answer") else None,
        consumed={"question", "solution", "answer"}, notes=said)


# ---------------------------------------------------------------------------------------- messages

def messages(raw: Raw, options: Options) -> Converted:
    """Chat datasets (Mixture-of-Thoughts, Multilingual-Thinking, DeepSeek API logs): `messages`, a
    list of {role, content}. Trace: the last assistant turn; problem: the last user turn before it.
    The reasoning is the turn's `reasoning_content` or `thinking` field when non-empty, else the
    <think>…</think> part of its content. System turns go to meta `system`; any other turns (earlier
    exchanges of a multi-turn chat) to meta `other_turns`, so nothing is lost."""
    raw.require("messages")
    raw.struct_list("messages", ("role", "content"), "a list of {role, content} turns")
    problem, contents, separate, meta = [], [], [], []
    for row, turns in enumerate(raw.table.column("messages").to_pylist()):
        turns = [t for t in (turns or []) if t is not None]
        last = next((i for i in range(len(turns) - 1, -1, -1) if turns[i].get("role") == "assistant"), None)
        if last is None:
            raise raw.row_error(row, "column messages has no assistant turn")
        ask = next((i for i in range(last - 1, -1, -1) if turns[i].get("role") == "user"), None)
        reply = turns[last]
        apart = reply.get("reasoning_content") or reply.get("thinking")
        problem.append(turns[ask].get("content") if ask is not None else None)
        contents.append((reply.get("content") or "").strip())
        separate.append(apart.strip() if apart else "")
        meta.append(_other_turns(turns, {last, ask}))
    if options.layout in (layouts.AUTO, layouts.COLUMN):
        parts, said = split_column(raw, contents, options.layout, reasoning=separate)
    else:
        apart = sum(bool(r) for r in separate)
        if apart:  # the layout would read the content only, and their reasoning would be lost
            raise BadInput(f"--layout {options.layout}: {apart:,} row(s) of {raw.where} carry their reasoning "
                           f"in reasoning_content/thinking (--layout auto or column)")
        parts, said = split_column(raw, contents, options.layout)
    return Converted(rows=list(range(len(problem))), problem=problem, problem_column="messages",
                     **halves(parts), meta=meta, consumed={"messages"}, notes=said)


def _other_turns(turns: list[dict], used: set[int | None]) -> dict:
    extra: dict = {}
    system = [t.get("content") or "" for t in turns if t.get("role") == "system"]
    if system:
        extra["system"] = "\n\n".join(system)
    others = [{k: v for k, v in t.items() if v is not None}
              for i, t in enumerate(turns) if i not in used and t.get("role") != "system"]
    if others:
        extra["other_turns"] = others
    return extra


# ----------------------------------------------------------------------------------------- generic

GENERIC_KEYS = ("problem", "thinking", "response", "gold", "teacher", "source", "sample_idx", "finish_reason")
GENERIC_REQUIRED = ("problem", "response")
# Read as `thinking` when there is no such column: the OpenAI-style API field (DeepSeek's API,
# vLLM's reasoning parser). A plain `reasoning` column is not taken: in the wild it is as often a label.
THINKING_COLUMNS = ("reasoning_content",)


def parse_mapping(text: str | None) -> dict[str, str]:
    """`problem=question,thinking=cot,…` → {trace column: source column}."""
    mapping: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        key, eq, column = (s.strip() for s in item.partition("="))
        if not eq or not key or not column:
            raise BadInput(f"--map: item {item.strip()!r} is not KEY=COLUMN")
        if key not in GENERIC_KEYS:
            raise BadInput(f"--map: unknown key {key!r} in {item.strip()!r} (known: {', '.join(GENERIC_KEYS)})")
        if key in mapping:
            raise BadInput(f"--map: key {key!r} is given twice")
        mapping[key] = column
    return mapping


def generic(raw: Raw, options: Options) -> Converted:
    """Any table, through `--map problem=COL,response=COL[,thinking=COL,gold=COL,teacher=COL,
    source=COL,sample_idx=COL,finish_reason=COL]`. A trace column not in the map is read from a source
    column of the same name when there is one (so a table already in trace layout needs no map); a
    `reasoning_content` text column is the thinking when there is no `thinking` column.
    Without a thinking column, the response is split by its reasoning layout (`--layout`, detected
    when auto); with one, a row whose thinking is empty is read from its response's markers."""
    mapping = parse_mapping(options.mapping)
    used = set(mapping.values())
    for key in GENERIC_KEYS:
        if key not in mapping and raw.has(key) and key not in used:
            mapping[key] = key
    if "thinking" not in mapping:  # a separate reasoning column under its API name
        alias = next((c for c in THINKING_COLUMNS if raw.has(c) and c not in used and is_text(raw.type_of(c))), None)
        if alias:
            mapping["thinking"] = alias
    absent = [k for k in GENERIC_REQUIRED if k not in mapping]
    if absent:
        raise BadInput(f"{raw.where}: preset generic needs {', '.join(absent)} "
                       f"(--map {','.join(f'{k}=COLUMN' for k in absent)}; columns present: "
                       f"{', '.join(raw.columns)})")
    raw.require(*mapping.values(), why=" (from --map)")
    col = mapping.get
    finish = raw.texts(col("finish_reason")) if "finish_reason" in mapping else None
    if "thinking" in mapping and options.layout in (layouts.AUTO, layouts.COLUMN):
        parts, said = split_column(raw, [r or "" for r in raw.texts(col("response"))], options.layout, finish,
                                   reasoning=[t or "" for t in raw.texts(col("thinking"))])
    else:
        if "thinking" in mapping:
            raise BadInput(f"--layout {options.layout}: the reasoning is in column {col('thinking')} "
                           f"(--layout auto or column), or leave thinking out of --map")
        parts, said = split_column(raw, raw.texts(col("response")), options.layout, finish)
    sample_idx = None
    if "sample_idx" in mapping:
        sample_idx = raw.integers(col("sample_idx"))
        bad = next((i for i, v in enumerate(sample_idx) if v is None or v < 0), None)
        if bad is not None:
            raise raw.row_error(bad, f"column {col('sample_idx')}: sample_idx must be a non-negative "
                                     f"integer, found {sample_idx[bad]}")
    n = raw.table.num_rows
    return Converted(
        rows=list(range(n)), problem=raw.texts(col("problem")), problem_column=col("problem"), **halves(parts),
        gold=raw.scalars_as_text(col("gold")) if "gold" in mapping else None,
        teacher=raw.texts(col("teacher")) if "teacher" in mapping else None,
        source=raw.texts(col("source")) if "source" in mapping else None,
        finish_reason=finish, sample_idx=sample_idx, consumed=set(mapping.values()), notes=said)


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("s1k", s1k, takes_trace=True),
    Preset("openthoughts", openthoughts),
    Preset("openr1-math", openr1_math),
    Preset("limo", limo),
    Preset("messages", messages),
    Preset("generic", generic, takes_mapping=True),
)}
