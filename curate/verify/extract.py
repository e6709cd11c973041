"""Find the final answer in a model's response.

Order of preference: the last `\\boxed{…}` / `\\fbox{…}` (nested braces, or `\\boxed 5`); then the
last answer marker ("Final Answer:", "The answer is", "Answer:", "#### N"); then the response
itself when it already is a bare answer (one line, not prose); then, only when asked, the last
number in the text. Every scan here is linear in the text's length: responses are untrusted and
may be megabytes long.
"""

from __future__ import annotations

import collections
import re

_BOX_COMMANDS = ("\\boxed", "\\fbox")
# Longest first, so "the final answer is" wins over "the answer is" at the same place.
_MARKER = re.compile(
    r"(?:final\s+answer\s*(?:is)?\s*[:：]?|the\s+(?:correct\s+)?answer\s+is\s*[:：]?|answer\s*[:：]|####)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
# Three words of prose in a row (outside \text{…}) mean the line is a sentence, not an answer.
_PROSE = re.compile(r"\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b")
_TEXT_GROUP = re.compile(r"\\(?:text|mbox|textbf|mathrm|textit)\s*\{[^{}]*\}")


def extract_answer(text: str | None, fallback_last_number: bool = False) -> str | None:
    """The final answer in `text`, or None when there is none."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed.strip() or None
    marked = after_last_marker(text)
    if marked:
        return marked
    if _is_bare(text):
        return text
    if fallback_last_number:
        numbers = _NUMBER.findall(text)
        if numbers:
            return numbers[-1]
    return None


def extract_gold(text: str | None) -> str | None:
    """A reference answer: its boxed part when it is a worked solution, else the text itself."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed.strip() or None
    return text


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{…}` or `\\fbox{…}` (or `\\boxed 5`); None if there is none."""
    start = max(text.rfind(cmd) for cmd in _BOX_COMMANDS)
    while start >= 0:
        cmd = next(c for c in _BOX_COMMANDS if text.startswith(c, start))
        content = _group_after(text, start + len(cmd))
        if content is not None:
            return content
        # An unclosed box (a truncated response): look for an earlier, complete one.
        start = max(text.rfind(c, 0, start) for c in _BOX_COMMANDS)
    return None


def _group_after(text: str, i: int) -> str | None:
    """The brace group (or single bare token) that starts at `text[i]`, skipping spaces."""
    n = len(text)
    if i < n and text[i].isalpha():  # \boxedx is another command, not a box
        return None
    while i < n and text[i] == " ":
        i += 1
    if i >= n:
        return None
    if text[i] != "{":
        # `\boxed 5` or `\boxed 12.5$`: a bare token up to a space, `$` or end.
        m = re.compile(r"[^\s$]+").match(text, i)
        return m.group(0).rstrip(".") if m else None
    depth = 0
    j = i
    while j < n:
        c = text[j]
        if c == "\\":  # skip the escaped character: \{ and \} are not group braces
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j]
        j += 1
    return None


def after_last_marker(text: str) -> str | None:
    """The answer after the last marker: to the end of its line, minus `$` and a final period."""
    found = collections.deque(_MARKER.finditer(text), maxlen=1)  # keeps only the last match
    if not found:
        return None
    rest = text[found[0].end():].lstrip("*: \t\n")  # "**Answer:** 5" in Markdown
    line = rest.split("\n", 1)[0].strip()
    if line.startswith("$$") and "$$" in line[2:]:
        line = line[: line.index("$$", 2) + 2]
    elif line.startswith("$") and "$" in line[1:]:  # "The answer is $x = 3$, since …"
        line = line[: line.index("$", 1) + 1]
    elif line.startswith("\\(") and "\\)" in line:
        line = line[: line.index("\\)") + 2]
    else:
        # "The answer is 5 because …": keep the first clause only.
        line = re.split(r",?\s+(?:because|since|as|which|so|for|where)\s+|\.\s", line, maxsplit=1)[0]
    line = line.strip().rstrip(".").strip("* ")
    return line or None


def _is_bare(text: str) -> bool:
    """A short text, or one line, that reads as an answer, not as prose."""
    if "\n" in text and (len(text) > 200 or "\n\n" in text):
        return False
    return _PROSE.search(_TEXT_GROUP.sub("", text)) is None
