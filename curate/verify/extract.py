"""Find the final answer in a model's response, and say which rule found it.

When the response carries its reasoning (`</think>`, `<|end_of_thought|>`, s1.1's `answer` line), the
part after it is read first (a box in the reasoning may be a draft). Rules, most trusted first
(`find_answer` returns the answer and the rule's name):
  boxed        every complete `\\boxed{…}` / `\\fbox{…}` (or `\\boxed 5`): the last box together with
               the boxes just before it that only connectors separate (`\\boxed{2} and \\boxed{5}`,
               `p=\\boxed{5}, q=\\boxed{2}`) are one answer, joined by commas; a box before a sentence
               break ("Try \\boxed{10}. Hmm, recheck: \\boxed{12}") was a draft. An answer marker after
               the last box with a value (or a choice letter) beats the box: the box was a step.
  marker       the last answer marker: "Final Answer:", "The answer is", "Answer: ", `####`, "The
               correct option is", and the same in French, German, Spanish, Portuguese, Italian,
               Russian, Chinese, Japanese, Korean, Arabic and Hindi. What follows it: a box, a choice
               letter, its math spans (joined when "or"/"and" separate them), its bold text, else its
               first clause (the clause's last math span or number when the clause is prose).
  labelled / bare   "Word: answer", or the whole response when it is a bare answer (not prose).
  choice       "Option A is correct".
  math span    the last `$…$`, `$$…$$`, `\\(…\\)` or `\\[…\\]` in the final sentences (with the
               spans just before it that only "or", "and" or commas separate), unless a later
               sentence states a number.
  expression   the last plain-unicode math of the final sentence (`θ = π/2`, `2π`, `10⁻³`).
  yes / no     opening the final sentence ("No, it is not possible.").
  number       of the final sentence that has one (`last_number=True`, the default; see
               `final_sentence_number`), else the last number of the response.
Rules from "labelled / bare" on are guesses (`guesses=False` turns them off), and none of the last
five is made for a response that stops mid-sentence (cut off by a token budget). Every scan is
linear in the text's length (responses are untrusted, may be megabytes) and runs inside the
workers' time limit.
"""

from __future__ import annotations

import collections
import re

_BOX = re.compile(r"\\(?:boxed|fbox)(?![a-zA-Z])")
# A sentence break between two boxes means the earlier one was a draft.
_SENTENCE_BREAK = re.compile(r"[.!?。！？](?:\s|$)|\n\s*\n")
_GAP_MAX = 80

# Answer markers, longest first at each place so "final answer is" wins over "answer is".
_MARKERS = [
    # English
    r"final\s+answers?\s*(?:is|are|would\s+be|will\s+be)?\s*[:：]?",
    r"(?:the\s+)?(?:correct\s+)?answers?\s+(?:\([^()\n]{0,60}\)\s+)?(?:is|are|should\s+be|would\s+be|will\s+be|must\s+be)\s*[:：]?",
    r"(?:the\s+)?correct\s+(?:option|choice)\s+is\s*[:：]?",
    r"answers?\s*[:：]",
    r"(?m:^[*#\s]{0,4}answer\b[*:]{0,2}(?=\s*[$\\\d(-]))",
    r"the\s+(?:final\s+)?result\s+is\s*[:：]?",
    r"####",
    # French, Spanish, Portuguese, Italian, German: a colon or a copula after the word
    r"(?:la\s+)?r[ée]ponse\s*(?:finale\s*)?(?:est\s*[:：]?|[:：])",
    r"(?:la\s+)?respuesta\s*(?:final\s*)?(?:es\s*[:：]?|[:：])",
    r"(?:a\s+)?resposta\s*(?:final\s*)?(?:[ée]\s*[:：]?|[:：])",
    r"(?:la\s+)?risposta\s*(?:finale\s*)?(?:[èe]\s*[:：]?|[:：])",
    r"(?:die\s+)?(?:endg[üu]ltige\s+)?antwort\s*(?:lautet|ist|[:：])\s*[:：]?",
    r"(?:end)?ergebnis\s*(?:lautet|ist)?\s*[:：]",
    # Russian
    r"(?:окончательный\s+)?ответ(?:ом)?\b\s*(?:будет|равен|[:：—–])?",
    # Chinese, Japanese
    r"最终答案(?:是|为)?\s*[:：]?", r"答案(?:是|为|應為|应为)?\s*[:：]?", r"答\s*[:：]",
    r"最終的な答え(?:は)?\s*[:：]?", r"答え(?:は)?\s*[:：]?", r"解答\s*[:：]", r"正解(?:は)?\s*[:：]?",
    r"正确答案(?:是|为)?\s*[:：]?", r"正確答案(?:是|為)?\s*[:：]?", r"(?:정)?답(?:은|는)?\s*[:：]?",
    # Arabic, Hindi
    r"الإجابة\s+النهائية\s*(?:هي)?\s*[:：]?", r"الإجابة\s*(?:هي)?\s*[:：]?", r"الجواب\s*(?:هو)?\s*[:：]?",
    r"(?:अंतिम\s+)?उत्तर\s*(?:है)?\s*[:：]?",
]
# The lookahead on a marker's first letter lets the regex skip most positions at the cost of a
# character-class test (a plain alternation tries every marker at every position).
_MARKER = re.compile("(?=[#\\s*^afrtledpо答最正解الउ정답])(?:" + "|".join(f"(?:{m})" for m in _MARKERS) + ")",
                     re.IGNORECASE | re.MULTILINE)
# `$…$`, `$$…$$`, `\(…\)`, `\[…\]`; an escaped `\$` is a currency sign, not a delimiter.
_MATH_DELIM = re.compile(r"(?<!\\)\$\$|(?<!\\)\$|\\\(|\\\)|\\\[|\\\]")
_CLOSER = {"$": "$", "$$": "$$", "\\(": "\\)", "\\[": "\\]"}
_END_OF_REASONING = re.compile(r"</think>|<\|end_of_thought\|>|<\|begin_of_solution\|>|^answer[ \t]*$", re.MULTILINE)
_CONNECTOR = re.compile(r"^(?:\s*(?:,|;|、|，|or|and|ou|et|oder|und|o|y|e|или|и|或|和|या|और|أو|و|\\text\{\s*(?:or|and)\s*\}"
                        r"|\\quad))*\s*$", re.IGNORECASE)
_CHOICE_LEAD = re.compile(r"^[(（]([A-J])[)）](?=\s|$|[.,;:。です])|^([A-J])(?=$|[.,;:)]|\s+[a-z(])")
# A plain-text math expression (unicode math, no $): digits, letters, operators, π √ ∞ …
_PLAIN_EXPR = re.compile(r"[-+−]?(?:[\w.]+|[πθ√∞⁻⁰¹²³⁴⁵⁶⁷⁸⁹½¼¾()/^·×+−=\-])(?:[\w.πθ√∞⁻⁰¹²³⁴⁵⁶⁷⁸⁹½¼¾()/^·×+−=\- ]*[\w.πθ√∞⁻⁰¹²³⁴⁵⁶⁷⁸⁹½¼¾)])?")
_UNICODE_MATH = re.compile(r"[π√∞⁻⁰¹²³⁴⁵⁶⁷⁸⁹½¼¾θ]")
_SENTENCE_START = re.compile(r"^[^\W\d_]{2,}\s+(?=.*[\d=π√∞$\\])", re.DOTALL)
_NUM = r"-?\d+(?:[.,]\d+)?"
_NUMBER_LIST = re.compile(rf"(?<![\w.,]){_NUM}(?:\s*(?:,\s*(?:and|or)?|and|or)\s+{_NUM})+(?![\w])")
_RATIO = re.compile(r"(?<![\w.:])(\d+):(\d+)(?![\w.:])|(?i:(?<=ratio is )(\d+)\s+to\s+(\d+))")
_YES_NO = re.compile(r"^(yes|no|oui|non|ja|nein|sí|si|да|нет)(?:[,.!]|$)", re.IGNORECASE)
_SCRIPT_WORD = re.compile("[\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0900-\u097f\u3040-\u30ff\u4e00-\u9fff"
                          "\uac00-\ud7af]{2,}")
_LABELLED = re.compile(r"^[^\W\d_]{2,20}\s*[:：]\s*(\S.{0,200})$", re.DOTALL)
_CHOICE_SENTENCE = re.compile(r"(?:option|choice|answer)\s*\(?([A-J])\)?\s+is\s+(?:the\s+)?(?:correct|right)\b",
                              re.IGNORECASE)
_SUBCLAUSE = re.compile(r",?\s+(?:which|because|since|as|where|given|for\s+[a-z]\s*=)\s+")
# "The answer is approximately 0.333": the qualifier is not part of the value.
_QUALIFIER = re.compile(r"^(?:(?:approximately|approx\.|about|around|roughly|nearly|exactly|precisely|equal\s+to"
                        r"|environ|à\s+peu\s+près|etwa|ungefähr|aproximadamente|cerca\s+de|примерно|около|约|大约"
                        r"|约为|およそ|約)\s*)+", re.IGNORECASE)
_BOLD = re.compile(r"\*\*([^*\n]{1,200})\*\*")
_NUMBER = re.compile(r"(?<![\w.,])[-−–]?(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+)(?:[.,]\d+)?(?:\s*/\s*\d+)?(?![\w])")
# Three words of prose in a row (outside \text{…}) mean the line is a sentence, not an answer.
_PROSE = re.compile(r"[^\W\d_]{2,}\s+[^\W\d_]{2,}\s+[^\W\d_]{2,}")
_TEXT_GROUP = re.compile(r"\\(?:text|mbox|textbf|mathrm|textit)\s*\{[^{}]*\}")
_CLAUSE_END = re.compile(r",?\s+(?:because|since|as|which|so|for|where|when|if|given|per)\s+|\s+\((?=[^\W\d_]{3,})|[.;。！？!?]\s|[.。]$|\n")
_TAIL_SENTENCES = 3  # the final sentences a math span must be in
_TAIL_CHARS = 600


def extract_answer(text: str | None, last_number: bool = True, guesses: bool = True) -> str | None:
    """The final answer in `text`, or None when there is none."""
    return find_answer(text, last_number, guesses)[0]


def find_answer(text: str | None, last_number: bool = True, guesses: bool = True) -> tuple[str | None, str]:
    """(answer, rule) for a response; (None, why) when no rule finds one. When the response
    carries its reasoning (`</think>`, `<|end_of_thought|>`, s1's `answer` line), the answer is
    looked for after it first: a box in the reasoning may be a draft. `guesses=False` keeps only
    the boxed and marker rules (for the end of a reasoning trace, which ends in many things that
    are not answers)."""
    if text is None:
        return None, "no response"
    text = text.strip()
    if not text:
        return None, "empty response"
    end = _last(_END_OF_REASONING.finditer(text))
    if end is not None and text[end.end():].strip():
        answer, rule = _find(text[end.end():].strip(), last_number=False, guesses=guesses)
        if answer is not None:
            return answer, rule
    return _find(text, last_number, guesses)


def _find(text: str, last_number: bool, guesses: bool) -> tuple[str | None, str]:
    boxes = boxed_groups(text)
    if boxes:
        marker = _last_marker(text, start=boxes[-1][2])
        if marker is not None:
            marked = _after_marker(text, marker)
            # "…, so our answer is correct", "the final answer is positive, because …" after the box
            # are remarks; a value (or a choice letter) there is a correction
            if marked and (re.search(r"[\d$\\=]", marked) or re.fullmatch(r"\(?[A-J]\)?", marked)):
                return marked, "answer marker after the last box"
        group = _last_group(text, boxes)
        answer = ", ".join(dict.fromkeys(b for b in group if b)) or None
        if answer is None:
            return None, "an empty box"
        return answer, "boxed" if len(group) == 1 else f"{len(group)} boxes joined"
    marked = after_last_marker(text)
    if marked:
        return marked, "answer marker"
    if not guesses:
        return None, "no boxed answer or answer marker"
    labelled = _LABELLED.match(text)
    if labelled and is_bare(labelled.group(1)):  # "Cevap: 20": one word, a colon, the answer
        return labelled.group(1).strip(), "labelled answer"
    if is_bare(text):
        return text, "bare answer"
    if truncated(text):
        return None, "the response stops mid-sentence (cut off): no final answer to take"
    choice = _last(_CHOICE_SENTENCE.finditer(text[-_TAIL_CHARS:]))
    if choice:  # "Option A is correct because …"
        return choice.group(1), "choice named correct"
    span = last_math_span(text)
    if span and not (last_number and _NUMBER.search(_after_last_span(text))):
        return span, "last math span"
    expression = last_plain_expression(text)
    if expression:
        return expression, "last expression of the final sentence"
    yes_no = _YES_NO.match(_last_sentence(text))
    if yes_no:
        return yes_no.group(1), "yes or no of the final sentence"
    if last_number:
        number = final_sentence_number(text)
        if number is not None:
            return number, "number of the final sentence"
        number = _last(_NUMBER.finditer(text))
        if number is not None:
            return number.group(0), "last number"
    return None, "no boxed answer, marker or math" + ("" if last_number else " (last number is off)")


def extract_gold(text: str | None) -> str | None:
    """A reference answer: every box of a worked solution (a two-part result is two boxes, joined
    by commas), else the text itself."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    boxes = boxed_groups(text)
    if boxes:
        return ", ".join(dict.fromkeys(c.strip() for c, _, _ in boxes if c.strip())) or None
    return text


def boxed_groups(text: str) -> list[tuple[str, int, int]]:
    """Every complete box as (content, start, end), in order. One pass: brace pairs are matched
    once for the whole text, so many unclosed `\\boxed{` cost no rescans."""
    starts = [m for m in _BOX.finditer(text)]
    if not starts:
        return []
    match = _brace_pairs(text)
    out = []
    for m in starts:
        i = m.end()
        while i < len(text) and text[i] == " ":
            i += 1
        if i >= len(text):
            continue
        if text[i] == "{":
            close = match.get(i)
            if close is not None:
                out.append((text[i + 1:close].strip(), m.start(), close + 1))
        else:  # `\boxed 5`: a bare token up to a space or `$`
            token = re.compile(r"[^\s$]{1,100}").match(text, i)
            if token:
                out.append((token.group(0).rstrip("."), m.start(), token.end()))
    return out


def last_boxed(text: str | None) -> str | None:
    """The content of the last complete `\\boxed{…}` / `\\fbox{…}` (or `\\boxed 5`); None if there is none.
    The one boxed-answer finder for code outside the verifier (ingest's gold, benchmarks, the
    ablation's boxed share); the verifier itself reads every box (`boxed_groups`)."""
    boxes = boxed_groups(text) if text else []
    return boxes[-1][0] if boxes else None


def _brace_pairs(text: str) -> dict[int, int]:
    """Position of each `{` that is closed → position of its `}` (escaped braces skipped)."""
    pairs, stack = {}, []
    for m in re.finditer(r"\\.|[{}]", text, re.DOTALL):
        c = m.group(0)
        if c == "{":
            stack.append(m.start())
        elif c == "}" and stack:
            pairs[stack.pop()] = m.start()
    return pairs


def _last_group(text: str, boxes: list[tuple[str, int, int]]) -> list[str]:
    group = [boxes[-1]]
    for prev in reversed(boxes[:-1]):
        gap = text[prev[2]:group[0][1]]
        if len(gap) > _GAP_MAX or _SENTENCE_BREAK.search(gap.replace("$", " ").strip()):
            break
        group.insert(0, prev)
    return [c for c, _, _ in group]


def _last(matches):
    found = collections.deque(matches, maxlen=1)
    return found[0] if found else None


def _last_marker(text: str, start: int = 0):
    """The last marker at or after `start`. Markers stand near the end, so the tail is searched
    first (4 kB, then 64 kB), the whole text only when the tail has none: a long reasoning trace
    costs a few kilobytes of scanning, not megabytes."""
    for window in (4096, 65536):
        lo = max(start, len(text) - window)
        if lo == start:
            break
        found = _last(_MARKER.finditer(text, lo))
        if found is not None:
            return found
    return _last(_MARKER.finditer(text, start))


def after_last_marker(text: str) -> str | None:
    """The answer after the last marker (see the module docstring), or None."""
    marker = _last_marker(text)
    return _after_marker(text, marker) if marker is not None else None


def _after_marker(text: str, marker: re.Match) -> str | None:
    rest = text[marker.end():marker.end() + 2000]
    if text[max(0, marker.start() - 2):marker.start()] == "**" or rest.lstrip(": ").startswith("**\n"):
        rest = rest.lstrip(": ").removeprefix("**")  # the bold around "**Answer:**" closes here
    rest = rest.lstrip(": \t\n：")
    boxed = boxed_groups(rest[:500])
    if boxed:
        return boxed[0][0] or None
    choice = _CHOICE_LEAD.match(rest.replace("**", ""))
    if choice:
        return choice.group(1) or choice.group(2)
    lead = re.match(r"[^$\\\n]{0,40}?(?=(?<!\\)\$|\\\(|\\\[)", rest)
    if lead is not None and not _PROSE.search(lead.group(0)):
        spans = _spans(rest[:2000])
        if spans:
            first = 1
            while first < len(spans) and _CONNECTOR.match(rest[spans[first - 1][2]:spans[first][1]]):
                first += 1
            return ", ".join(c for c, _, _ in spans[:first])
    line = rest.split("\n", 1)[0].strip()
    if not line and "\n" in rest:  # "**Answer**\n\n$5$"
        line = rest.strip().split("\n", 1)[0].strip()
    bold = _BOLD.search(line)
    if bold and not _PROSE.search(bold.group(1)) and (bold.start() > 0 or line[bold.end():].strip()):
        return _clean(bold.group(1))
    clause = _CLAUSE_END.split(line.replace("**", ""), maxsplit=1)[0]
    clause = _clean(clause)
    if not clause:
        return None
    if _PROSE.search(_TEXT_GROUP.sub("", clause)):
        inner = _last_math_in(clause)
        if inner:
            return inner
        number = _last(_NUMBER.finditer(clause))
        return number.group(0) if number else None
    return clause


def _clean(s: str) -> str:
    s = _QUALIFIER.sub("", s.strip().strip("*").strip())
    if s.startswith("$$") and s.endswith("$$") and len(s) > 4:
        s = s[2:-2]
    elif s.startswith("$") and s.endswith("$") and len(s) > 2 and not s.endswith("\\$"):
        s = s[1:-1]
    return s.strip().rstrip(".。").strip()


def _spans(text: str):
    """(content, start, end) of each math span, left to right, in one pass."""
    out = []
    opener = None
    for m in _MATH_DELIM.finditer(text):
        d = m.group(0)
        if opener is None:
            if d in _CLOSER:
                opener = m
        elif d == _CLOSER[opener.group(0)]:
            content = text[opener.end():m.start()].strip()
            if opener.group(0) == "$" and "\n" in content:  # a lone `$` (currency): start again here
                opener = m
                continue
            if content:
                out.append((content, opener.start(), m.end()))
            opener = None
    return out


def _last_math_in(text: str) -> str | None:
    spans = _spans(text)
    return spans[-1][0] if spans else None


def _after_last_span(text: str) -> str:
    """The text after the last math span's sentence: a number there is stated later than the span."""
    spans = _spans(text)
    if not spans:
        return ""
    rest = text[spans[-1][2]:]
    brk = _SENTENCE_BREAK.search(rest)
    return rest[brk.end():] if brk else ""


def last_math_span(text: str) -> str | None:
    """The last math span, when it stands in the final sentences of the text."""
    spans = _spans(text)
    if not spans:
        return None
    content, _, end = spans[-1]
    after = text[end:]
    if len(after) > _TAIL_CHARS or len(_SENTENCE_BREAK.findall(after)) > _TAIL_SENTENCES:
        return None
    return _joined(text, spans)


def _joined(text: str, spans) -> str:
    """The last span, with the spans before it that only connectors separate (`$x = 2$ or $x = 3$`)."""
    group = [spans[-1]]
    for prev in reversed(spans[:-1]):
        if not _CONNECTOR.match(text[prev[2]:group[0][1]]):
            break
        group.insert(0, prev)
    return ", ".join(c for c, _, _ in group)


def last_plain_expression(text: str) -> str | None:
    """The last expression of the final sentence written in plain unicode math (`θ = π/2`,
    `2π`, `10⁻³`), when it holds a math symbol; else None."""
    tail = text[-300:]
    sentences = [s for s in re.split(r"(?<=[.!?。])\s+|\n", tail) if s.strip()]
    if not sentences:
        return None
    last = sentences[-1].strip().rstrip(".。!")
    found = _last(m for m in _PLAIN_EXPR.finditer(last) if _UNICODE_MATH.search(m.group(0)))
    if found is None:
        return None
    expr = found.group(0).strip()
    words = expr.split()
    # "The period is 2π": drop leading words of prose
    while len(words) > 1 and re.fullmatch(r"[^\W\d_]{2,}", words[0]):
        words.pop(0)
    return " ".join(words) or None


def _last_sentence(text: str) -> str:
    parts = [p for p in re.split(r"(?<=[.!?。])\s+|\n+", text[-_TAIL_CHARS:]) if p.strip()]
    return parts[-1].strip() if parts else ""


def final_sentence_number(text: str) -> str | None:
    """The number the last sentence that has one states: numbers listed with "and"/"or"/commas
    are one list ("The numbers are 18 and 15"); after an `=` or `≈`, the first number after the
    last one (a computation's result); else the sentence's first number ("So she makes 20 dollars a
    day, or 140 dollars a week": the answer first, what follows is derived)."""
    tail = text[-_TAIL_CHARS:]
    for sentence in reversed(re.split(r"(?<=[.!?。])\s+|\n+", tail)):
        numbers = list(_NUMBER.finditer(sentence))
        if not numbers:
            continue
        main = _SUBCLAUSE.split(sentence, maxsplit=1)[0]
        if _NUMBER.search(main):  # "a count of 36, which matches n(n-1)/2 for n = 9": the main clause
            sentence = main
            numbers = list(_NUMBER.finditer(sentence))
        ratio = _last(_RATIO.finditer(sentence))
        if ratio is not None:  # 7:45, 3:4, "3 to 4" in a sentence about a ratio
            return f"{ratio.group(1) or ratio.group(3)}:{ratio.group(2) or ratio.group(4)}"
        listed = _last(_NUMBER_LIST.finditer(sentence))
        if listed is not None:
            return ", ".join(n.group(0) for n in _NUMBER.finditer(listed.group(0)))
        equals = max(sentence.rfind("="), sentence.rfind("≈"))
        after = [n for n in numbers if n.start() > equals] if equals >= 0 else numbers
        return (after or numbers)[0].group(0)
    return None


def truncated(text: str) -> bool:
    """Whether the text stops in the middle of a sentence of prose ("… = 30. But let me
    reconsider whether the"): its last number or math is then a step, not the answer."""
    tail = text[-200:].rstrip()
    if not tail or not tail[-1].isalpha():
        return False
    fragment = re.split(r"[.!?。！？:\n]", tail)[-1]
    return _PROSE.search(fragment) is not None


def is_bare(text: str) -> bool:
    """A short text, or one line, that reads as an answer, not as prose ("So θ = π/2." is a
    sentence: a word, then math)."""
    if len(text) > 300 or "\n\n" in text or text.count("\n") > 2:
        return False
    if _SENTENCE_START.match(text) or _SCRIPT_WORD.search(text):
        return False
    return _PROSE.search(_TEXT_GROUP.sub("", text)) is None
