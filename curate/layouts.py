"""Reasoning layouts: how a teacher's output marks its reasoning, and splitting it into
(thinking, response). The one home of this idea: ingest, `generate`, eval and `format` use it.

| layout          | looks like                                                     | who writes it            |
|-----------------|----------------------------------------------------------------|--------------------------|
| `think`         | `<think>A</think>B` (a missing opening tag is accepted)        | DeepSeek-R1, QwQ, Qwen3  |
| `think_no_open` | `A</think>B`: the chat template put `<think>` in the prompt,   | R1-Distill models        |
|                 | so text with no tag at all is thinking that never closed       |                          |
| `thought`       | `<|begin_of_thought|>A<|end_of_thought|>`                      | Sky-T1, OpenThoughts,    |
|                 | `<|begin_of_solution|>B<|end_of_solution|>`                    | Bespoke-Stratos          |
| `s1`            | a `think` line, A, an `answer` line, B (`<|im_start|>` may     | s1.1                     |
|                 | precede the markers)                                           |                          |
| `column`        | the reasoning in a column of its own (`reasoning_content`,    | Gemini thoughts, OpenAI- |
|                 | `thinking`, s1K's trajectories), the answer in another         | style APIs, s1K          |
| `final_answer`  | reasoning, then a `**Final Answer**` section                   | LIMO (not auto-detected) |
| `none`          | no markers: everything is the response                         | non-reasoning models     |

`split_texts(texts, "auto")` detects one layout per file (the marker layout most rows carry, when
at least half the rows that are not cut at the length limit carry it; else `none`), splits each row
by it, and splits a row that carries another layout's markers by those. A row the chosen layout
cannot read (a `think` file's row with no tag that was not cut off) "fits no layout": its text is
kept whole in `response`, its layout is `unmatched`, and it is counted, never emptied.

Splitting strips surrounding whitespace from both halves, as ingest always did, so traces that were
already split correctly keep their bytes and their `trace_id`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from curate.text import OPENTHOUGHTS, R1, S1, Delimiters

THINK = "think"
THINK_NO_OPEN = "think_no_open"
THOUGHT = "thought"
S1_LINES = "s1"
COLUMN = "column"
FINAL_ANSWER = "final_answer"
NONE = "none"
UNMATCHED = "unmatched"  # a row that fits no layout (its text is kept in response)
AUTO = "auto"

LAYOUTS = (THINK, THINK_NO_OPEN, THOUGHT, S1_LINES, COLUMN, FINAL_ANSWER, NONE)
MARKED = (THINK, THOUGHT, S1_LINES)  # layouts recognised by markers in the text, in detection order
CHOICES = (AUTO, *LAYOUTS)
DESCRIPTIONS = {
    THINK: "<think>…</think> (a missing opening tag accepted)",
    THINK_NO_OPEN: "…</think> with the opening tag in the prompt (R1-Distill); no tag: thinking never closed",
    THOUGHT: "<|begin_of_thought|>…<|end_of_thought|> <|begin_of_solution|>…<|end_of_solution|> (Sky-T1)",
    S1_LINES: "s1.1's `think` / `answer` lines",
    COLUMN: "a separate reasoning column",
    FINAL_ANSWER: "reasoning, then a **Final Answer** section (LIMO)",
    NONE: "no reasoning markers: all response",
}
LENGTH = "length"

SOLUTION_OPEN, SOLUTION_CLOSE = "<|begin_of_solution|>", "<|end_of_solution|>"
# Every tag a split should have consumed: one left in thinking or response means a broken split.
STRAY_TAGS = (R1.open, R1.close, OPENTHOUGHTS.open, OPENTHOUGHTS.close, SOLUTION_OPEN, SOLUTION_CLOSE)

# `<|im_start|>think` anywhere a special token may sit; the bare words only as lines of their own.
_S1_OPEN = re.compile(r"\A\s*(?:<\|im_start\|>think[ \t]*\n?|think[ \t]*(?:\n|\Z))")
_S1_ANSWER = re.compile(r"<\|im_start\|>answer[ \t]*\n?|(?:^|\n)[ \t]*answer[ \t]*(?:\n|\Z)")
_SOLUTION = re.compile(r"^\s*<\|begin_of_solution\|>(.*?)(?:<\|end_of_solution\|>\s*)?$", re.S)
_FINAL_ANSWER = re.compile(r"\*\*\s*final\s+answer\s*:?\s*\*\*", re.I)
_BOXED = re.compile(r"\\(?:boxed|fbox)\b")


@dataclass(frozen=True)
class Split:
    thinking: str
    response: str
    closed: bool  # False: the reasoning was opened and never closed (the text was cut off)
    layout: str  # the layout that read the row, or UNMATCHED


# ------------------------------------------------------------------------------- one row, one layout

def marked(text: str, layout: str) -> bool:
    """Whether `text` carries `layout`'s markers."""
    if layout in (THINK, THINK_NO_OPEN):
        return R1.open in text or R1.close in text
    if layout == THOUGHT:
        return any(tag in text for tag in (OPENTHOUGHTS.open, OPENTHOUGHTS.close, SOLUTION_OPEN))
    if layout == S1_LINES:
        # a bare `answer` line alone is too common in prose to mark a text: the think line or the
        # special token must be there (under an explicit --layout s1 an answer line alone splits)
        return bool(_S1_OPEN.match(text) or "<|im_start|>answer" in text)
    if layout == FINAL_ANSWER:
        return bool(_FINAL_ANSWER.search(text))
    return False


def markers_of(text: str) -> str | None:
    """The marker layout a single text carries (think before thought before s1), or None."""
    return next((name for name in MARKED if marked(text, name)), None)


def _delimited(text: str, delims: Delimiters, layout: str) -> Split:
    """`OPEN A CLOSE B` → (A, B); `A CLOSE B` → (A, B); `B OPEN A` (no close) → (A, B, unclosed)."""
    start = text.find(delims.open)
    end = text.find(delims.close, start + len(delims.open) if start >= 0 else 0)
    if end >= 0:
        begin = start + len(delims.open) if 0 <= start < end else 0
        return Split(text[begin:end].strip(), text[end + len(delims.close):].strip(), True, layout)
    return Split(text[start + len(delims.open):].strip(), text[:start].strip(), False, layout)


def _s1(text: str) -> Split:
    opened = _S1_OPEN.match(text)
    body_at = opened.end() if opened else 0
    answers = list(_S1_ANSWER.finditer(text, body_at))
    if answers:
        last = answers[-1]
        return Split(text[body_at:last.start()].strip(), text[last.end():].strip(), True, S1_LINES)
    return Split(text[body_at:].strip(), "", False, S1_LINES)


def strip_solution_tags(text: str) -> str:
    """`<|begin_of_solution|> X <|end_of_solution|>` → X (Sky-T1 / OpenThoughts' response wrapper)."""
    m = _SOLUTION.match(text or "")
    return m.group(1).strip() if m else (text or "").strip()


def split_final_answer(text: str) -> tuple[str, str]:
    """(reasoning, final-answer section) of a trace written without markers (LIMO): the text before
    the last "**Final Answer**" heading; without one, the last paragraph when it holds \\boxed{};
    otherwise ("", text): nothing is mistaken for reasoning."""
    heads = list(_FINAL_ANSWER.finditer(text))
    if heads:
        at = heads[-1].start()
        return text[:at].strip(), text[at:].strip()
    paragraphs = text.strip().rsplit("\n\n", 1)
    if len(paragraphs) == 2 and _BOXED.search(paragraphs[1]):
        return paragraphs[0].strip(), paragraphs[1].strip()
    return "", text.strip()


KNOWN_DELIMITERS = {R1: THINK, OPENTHOUGHTS: THOUGHT, S1: S1_LINES}


def split_generated(text: str | None, delims: Delimiters, finish_reason: str | None = None) -> Split:
    """A generated output: by the markers it carries (an s1.1 model run with R1 delimiters is still
    read), else by the layout of the delimiters the generation used; custom delimiters split as such."""
    known = KNOWN_DELIMITERS.get(delims)
    if known is None:
        return split(text, delims, finish_reason)
    return split_one(text, known, finish_reason)


def split(text: str | None, layout: str | Delimiters, finish_reason: str | None = None,
          reasoning: str | None = None) -> Split:
    """Split one output by one layout (a name, or Delimiters of a custom pair).

    A text without the layout's markers: under `think_no_open` it is thinking that never closed;
    under the other marker layouts it is thinking that never closed when it was cut at the length
    limit (`finish_reason = 'length'`), and otherwise fits no layout (kept whole in response)."""
    text = text or ""
    if isinstance(layout, Delimiters):
        if layout in KNOWN_DELIMITERS:
            layout = KNOWN_DELIMITERS[layout]
        else:
            if layout.open in text or layout.close in text:
                return _delimited(text, layout, THINK)
            return _unmarked(text, THINK, finish_reason)
    if layout == COLUMN:
        # reasoning with no answer after it: nothing says it ended (a cut-off Gemini thought)
        return Split(reasoning or "", text, not ((reasoning or "").strip() and not text.strip()), COLUMN)
    if layout == NONE:
        return Split("", text.strip(), True, NONE)
    if layout == FINAL_ANSWER:
        thinking, response = split_final_answer(text)
        return Split(thinking, response, True, FINAL_ANSWER if thinking else UNMATCHED)
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r} (known: {', '.join(LAYOUTS)})")
    if not (marked(text, layout) or (layout == S1_LINES and _S1_ANSWER.search(text))):
        return _unmarked(text, layout, finish_reason)
    if layout in (THINK, THINK_NO_OPEN):
        return _delimited(text, R1, layout)
    if layout == THOUGHT:
        if OPENTHOUGHTS.open not in text and OPENTHOUGHTS.close not in text:  # a solution alone
            return Split("", strip_solution_tags(text), True, THOUGHT)
        part = _delimited(text, OPENTHOUGHTS, THOUGHT)
        return Split(part.thinking, strip_solution_tags(part.response), part.closed, THOUGHT)
    return _s1(text)


def _unmarked(text: str, layout: str, finish_reason: str | None) -> Split:
    if layout == THINK_NO_OPEN or finish_reason == LENGTH:
        return Split(text.strip(), "", False, layout)
    return Split("", text.strip(), True, UNMATCHED)


def split_one(text: str | None, default: str = THINK_NO_OPEN, finish_reason: str | None = None) -> Split:
    """One output on its own (generation, eval): by the markers it carries, else by `default`."""
    return split(text, markers_of(text or "") or default, finish_reason)


# ------------------------------------------------------------------------------- a file of rows

@dataclass
class Detection:
    """What `split_texts` did with one file: the layout asked for and the one used, rows per layout
    that read them (`unmatched`: fit none), and how many had thinking that never closed."""

    requested: str
    layout: str
    rows: int
    by_layout: Counter = field(default_factory=Counter)
    unclosed: int = 0
    hint: str = ""  # a layout the rows may be in that auto-detection does not choose by itself

    @property
    def unmatched(self) -> int:
        return self.by_layout.get(UNMATCHED, 0)

    def describe(self, where: str) -> str:
        how = "detected" if self.requested == AUTO else "asked for"
        fit = self.by_layout.get(self.layout, 0)
        line = f"layout {self.layout} ({how} in {where}): {fit:,} of {self.rows:,} rows fit it"
        others = {k: v for k, v in self.by_layout.items() if k not in (self.layout, UNMATCHED)}
        if others:
            line += "; other layouts: " + ", ".join(f"{k} {v:,}" for k, v in sorted(others.items()))
        if self.unmatched:
            line += (f"; {self.unmatched:,} fit no layout: kept whole in response, meta layout = "
                     f"'{UNMATCHED}' (try --layout)")
        return line + (f"; {self.hint}" if self.hint else "")


def detect(texts: list[str | None], finish_reasons: list[str | None] | None = None) -> str:
    """The file's layout: the marker layout most rows carry (`think` becomes `think_no_open` when
    most of its rows lack the opening tag), provided at least half the rows not cut at the length
    limit carry it; else `none` (rows with markers are still split by them, see `split_texts`)."""
    finish = finish_reasons or [None] * len(texts)
    counts: Counter = Counter()
    open_tags = close_only = eligible = 0
    for text, fin in zip(texts, finish):
        text = text or ""
        found = markers_of(text)
        if found is None and fin == LENGTH:
            continue  # a cut-off text without markers says nothing about the file's layout
        eligible += 1
        if found is not None:
            counts[found] += 1
            if found == THINK:
                open_tags += R1.open in text
                close_only += R1.open not in text
    if not counts:
        return NONE
    best = max(MARKED, key=lambda name: (counts[name], -MARKED.index(name)))
    if counts[best] * 2 < eligible:
        return NONE
    if best == THINK and close_only > open_tags:
        return THINK_NO_OPEN
    return best


def split_texts(texts: list[str | None], layout: str = AUTO, finish_reasons: list[str | None] | None = None,
                reasoning: list[str | None] | None = None) -> tuple[list[Split], Detection]:
    """Split a file's outputs. `layout` is a name or `auto` (see `detect`). With a `reasoning`
    column, a row is `column` (both columns as given); under `auto`, a row whose reasoning is empty
    and whose text carries markers is split by them, so a half-filled reasoning column loses nothing."""
    if layout not in CHOICES:
        raise ValueError(f"unknown layout {layout!r} (known: {', '.join(CHOICES)})")
    n = len(texts)
    finish = finish_reasons or [None] * n
    if reasoning is not None and layout in (AUTO, COLUMN):
        apart = [bool(r) for r in reasoning]
        inline = [t for t, a in zip(texts, apart) if not a]
        chosen = detect(inline, [f for f, a in zip(finish, apart) if not a]) if layout == AUTO else COLUMN
        out = []
        for text, fin, r, a in zip(texts, finish, reasoning, apart):
            if a or layout == COLUMN:
                out.append(split(text, COLUMN, reasoning=r))
            elif markers_of(text or "") is None:
                # no reasoning in its column nor in the text: the row did not reason (text as given)
                out.append(Split("", text or "", True, NONE))
            else:
                out.append(_auto_row(text or "", chosen, fin))
        return out, _tally(layout, COLUMN if any(apart) or layout == COLUMN else chosen, out)
    if layout == AUTO:
        chosen = detect(texts, finish)
        out = [_auto_row(t or "", chosen, f) for t, f in zip(texts, finish)]
    else:
        chosen = layout
        out = [split(t, layout, f) for t, f in zip(texts, finish)]
    found = _tally(layout, chosen, out)
    if chosen == NONE:
        # LIMO-style text: the reasoning, then a "**Final Answer**" section; not chosen by itself,
        # as a plain solution may end with that heading too, but worth saying
        heads = sum(bool(_FINAL_ANSWER.search(t or "")) for t in texts)
        if heads * 2 >= max(1, n):
            found.hint = (f"{heads:,} rows have a **Final Answer** section after their reasoning: "
                          f"--layout final_answer splits there")
    return out, found


def _auto_row(text: str, chosen: str, finish_reason: str | None) -> Split:
    """The file's layout when the row carries its markers (or has none), else the row's own."""
    if chosen != NONE and marked(text, chosen):
        return split(text, chosen, finish_reason)
    own = markers_of(text)
    return split(text, own or chosen, finish_reason)


def _tally(requested: str, chosen: str, out: list[Split]) -> Detection:
    return Detection(requested, chosen, len(out), Counter(s.layout for s in out),
                     sum(not s.closed for s in out))


def stray_tags(text: str) -> bool:
    """Whether a delimiter a split should have consumed is left in the text."""
    return any(tag in text for tag in STRAY_TAGS)


def unclosed(tags: list[str] | tuple[str, ...] = STRAY_TAGS):
    """Polars expression over trace columns: the thinking never closed. Meta says so (ingest's
    `thinking_closed: false`, generate's `closed: false`), a delimiter is left in thinking or
    response, or there is thinking with nothing after it and nothing says it was closed. The
    `format` stage's flag, `validate`'s count and (in SQL) the `truncated` query use this rule."""
    import polars as pl

    stray = pl.lit(False)
    for tag in tags:
        stray = stray | pl.col("thinking").str.contains(tag, literal=True) \
            | pl.col("response").str.contains(tag, literal=True)
    meta = pl.col("meta").fill_null("{}")
    said_open = (meta.str.json_path_match("$.thinking_closed") == "false") \
        | (meta.str.json_path_match("$.closed") == "false")
    said_closed = (meta.str.json_path_match("$.thinking_closed") == "true") \
        | (meta.str.json_path_match("$.closed") == "true")
    dangling = (pl.col("response").str.strip_chars() == "") & (pl.col("thinking").str.strip_chars() != "") \
        & ~said_closed.fill_null(False)
    return (said_open.fill_null(False) | stray | dangling).fill_null(False)
