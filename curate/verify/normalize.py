"""Canonical text of an answer: what two equal answers share after cosmetic differences go.

The normalised string is compared first (cheap, in the parent process), is the cache key, and is
what the parser reads. Every rewrite here is a plain regex or string replace, linear in the
length of the text: nothing is evaluated.
"""

from __future__ import annotations

import re

# Unicode spellings models emit, mapped to the LaTeX the parser reads.
_UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00d7": "\\times ", "\u22c5": "\\cdot ",
    "\u00b7": "\\cdot ", "\u00f7": "\\div ", "\u03c0": "\\pi ", "\u221e": "\\infty ", "\u221a": "\\sqrt",
    "\u2264": "\\le ", "\u2265": "\\ge ", "\u2260": "\\ne ", "\u00b0": "^\\circ", "\u222a": "\\cup ",
    "\u2229": "\\cap ", "\u2205": "\\emptyset ", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\uff0c": ",", "\uff08": "(", "\uff09": ")", "\u2032": "'", "\uff0d": "-", "\ufe63": "-",
    "\uff1a": ":", "\uff1b": ";", "\uff05": "%", "\uff0e": ".", "\uff0b": "+", "\uff1d": "=",
    "\u00bd": "\\frac{1}{2}", "\u2153": "\\frac{1}{3}", "\u2154": "\\frac{2}{3}", "\u00bc": "\\frac{1}{4}",
    "\u00be": "\\frac{3}{4}", "\u2155": "\\frac{1}{5}", "\u215b": "\\frac{1}{8}",
    "\u2248": "\\approx ", "\u2208": "\\in ", "\u00b1": "\\pm ",
    "\u221b": "\\sqrt[3]", "\u2286": "\\subseteq ",
    # invisible: zero-width spaces and joiners, direction marks, BOM
    "\u200b": "", "\u200c": "", "\u200d": "", "\u200e": "", "\u200f": "", "\u202a": "", "\u202b": "",
    "\u202c": "", "\u202d": "", "\u202e": "", "\u2066": "", "\u2067": "", "\u2068": "", "\u2069": "",
    "\ufeff": "", "\u061c": "", "\u2060": "",
    "\u03b8": "\\theta ", "\u03b1": "\\alpha ", "\u03b2": "\\beta ", "\u03b3": "\\gamma ",
    "\u03bb": "\\lambda ", "\u03bc": "\\mu ", "\u03c6": "\\phi ", "\u03c9": "\\omega ",
}
# Full-width digits and letters (Chinese and Japanese outputs) as ASCII.
_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)} | {c: c - 0xFEE0 for c in range(0xFF21, 0xFF3B)} \
    | {c: c - 0xFEE0 for c in range(0xFF41, 0xFF5B)} \
    | {c: c - 0x0660 + 0x30 for c in range(0x0660, 0x066A)} | {c: c - 0x06F0 + 0x30 for c in range(0x06F0, 0x06FA)} \
    | {c: c - 0x0966 + 0x30 for c in range(0x0966, 0x0970)} | {0x066B: 0x2E, 0x066C: 0x2C}  # Arabic, Persian, Devanagari digits
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))

_ALIASES = [
    (re.compile(r"\\[dtc]frac(?![a-zA-Z])"), r"\\frac"),
    (re.compile(r"\\[dt]binom(?![a-zA-Z])"), r"\\binom"),
    (re.compile(r"\\(?:leq|leqslant)(?![a-zA-Z])"), r"\\le"),
    (re.compile(r"\\(?:geq|geqslant)(?![a-zA-Z])"), r"\\ge"),
    (re.compile(r"\\(?:neq)(?![a-zA-Z])"), r"\\ne"),
    (re.compile(r"\\(?:varnothing)(?![a-zA-Z])"), r"\\emptyset"),
    (re.compile(r"\\(?:varpi)(?![a-zA-Z])"), r"\\pi"),
    (re.compile(r"\\(?:infin)(?![a-zA-Z])|(?<![a-zA-Z\\])(?:infinity|inf)(?![a-zA-Z])"), r"\\infty"),
    (re.compile(r"\\(?:lvert|rvert|vert)(?![a-zA-Z])"), "|"),
    # Plain-math spellings: sqrt(2), sin(x), 4pi.
    (re.compile(r"(?<![a-zA-Z\\])(sqrt|arcsin|arccos|arctan|sin|cos|tan|cot|sec|csc|log|ln|exp|pi)(?![a-zA-Z])"),
     r"\\\1"),
]
# Delimiter sizing and spacing: no meaning for the value.
_DROP = re.compile(
    r"\\left\.|\\right\.|\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg|displaystyle"
    r"|textstyle|quad|qquad|mathstrut|nonumber|limits)(?![a-zA-Z])|(?<!\\)\\[,;:! ]|~|\$|(?<!\\)\\[()\[\]]"
)
_PHANTOM = re.compile(r"\\[hv]?phantom\s*(?:\{[^{}]*\}|.)")
_APPROX_PREFIX = re.compile(r"^\s*(?:\\approx|\\sim|=)\s*")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?(?:\s*[CFK](?![a-zA-Z]))?|\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])|\^\s*\{\s*\\text\{\s*o\s*\}\s*\}")
_TEXT = re.compile(
    r"\\(?:text|textrm|textit|textbf|textnormal|textsf|mbox|mathrm|mathbf|mathit|mathsf|boldsymbol|operatorname)"
    r"\s*\{([^{}]*)\}(\s*\^\s*\{?[23]\}?)?"
)
# `(C)`, `C)`, `C.`, and a letter followed by lowercase prose: "D, since B fails"
_CHOICE = re.compile(r"^\(?([A-J])\)(?:[\s.:].*)?$|^\(([A-J])\)?$|^([A-J])(?:[.:]?|[,.:;]?\s+[a-z].*)$", re.DOTALL)
_MEMBER_PREFIX = re.compile(r"^[a-zA-Z]\s*\\in\s*")
# `5,\!525` and `5{,}525` are thousands separators wherever they stand; a bare `5,525` only when it
# is the whole answer (inside a tuple it may be two numbers).
_LATEX_THOUSANDS = re.compile(r"(?<=\d)(?:,\\!|\{,\})(\d{3})()")
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
# "5 meters", "12 sq. ft": a number, a space, then words (a lone letter is a variable: 2 x).
# Words are split by required spaces, so a long run of letters cannot make the regex backtrack.
_NUMBER_WITH_UNIT = re.compile(r"^(-?[\d.,]+(?:/\d+)?)\s+[^\W\d_]{2,}\.?(?:\s+[^\W\d_]{2,}\.?){0,2}$")
_CURRENCY = re.compile(r"\\\$|(?<![a-zA-Z\\])(?:dollars?|USD)(?![a-zA-Z])|\\(?:euro|pounds)(?![a-zA-Z])")
_LIST_WORD = re.compile(r",?\s+(?:and|or)\s+")
_COMMAND_SPACE = re.compile(r"(\\[A-Za-z]+)\s+(?=[A-Za-z0-9])")


# A JSON-escaped source doubles every backslash: `\\\\frac` is `\\frac` (a line break `\\\\` before a
# command name is the same text, so only names of two letters or more are undoubled).
_DOUBLED = re.compile(r"\\\\(?=[a-zA-Z]{2,}|[{}$%])")
# One-token arguments: \frac12, \frac1{x}, \sqrt2 read as \frac{1}{2}, \frac{1}{x}, \sqrt{2}.
_FRAC_TOKENS = re.compile(r"\\[dt]?(frac|binom)\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])")
_FRAC_FIRST = re.compile(r"\\[dt]?(frac|binom)\s*([0-9a-zA-Z])\s*(?=\{)")
_FRAC_SECOND = re.compile(r"\\[dt]?(frac|binom)\s*(\{[^{}]*\})\s*([0-9a-zA-Z])")
_SQRT_TOKEN = re.compile(r"\\sqrt\s*([0-9]|[a-zA-Z](?![a-zA-Z]))")
_SQRT_PAREN = re.compile(r"\\sqrt\s*\(([^()]*)\)")
_MARKDOWN = re.compile(r"\*\*([^*]*)\*\*|`")
_SCIENTIFIC = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([-+]?\d{1,4})(?![\w.])")
_SUBSCRIPT_TOKEN = re.compile(r"_\s*([0-9a-zA-Z])")
_BASE_SPACE = re.compile(r"(?<=_\{[0-9a-zA-Z]\})\s+(?=\d)")
_BRACED_PUNCT = re.compile(r"\{([,:.])\}")
_GLUED_SPACE = re.compile(r"\\q?quad(?=[a-zA-Z])")  # `\quadx`: a space glued to a letter
_CONSTANTS = [
    (re.compile(r"\\exponentialE(?![a-zA-Z])|\\mathrm\s*\{\s*e\s*\}|\\mathrm\s*e(?![a-zA-Z])"), "e"),
    (re.compile(r"\\imaginaryI(?![a-zA-Z])|\\mathrm\s*\{\s*i\s*\}|\\mathrm\s*i(?![a-zA-Z])"), "i"),
]


_SUPERSCRIPT = re.compile("[\u207b\u207a\u2070\u00b9\u00b2\u00b3\u2074-\u2079]+")
_SUPERSCRIPT_MAP = str.maketrans("\u207b\u207a\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079", "-+0123456789")
# Words of other scripts around an answer ("6 है", "3 です", "x = 5 。"): not math.
_OTHER_SCRIPTS = re.compile("[\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0900-\u097f\u3000-\u303f"
                            "\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]+")
# Wrappers that only change the font: \mathbf{-\tfrac{1}{2}} is -\tfrac{1}{2} (nested braces too).
_FONT = re.compile(r"\\(?:mathbf|boldsymbol|bm|mathit|mathsf|mathnormal|textbf|displaystyle)\s*\{")


def _unwrap_fonts(s: str) -> str:
    """Drop font wrappers whose group holds nested braces (the simple ones go with `_TEXT`)."""
    for _ in range(20):
        m = _FONT.search(s)
        if not m:
            return s
        depth, j = 0, m.end() - 1
        while j < len(s):
            if s[j] == "{":
                depth += 1
            elif s[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= len(s):
            return s
        s = s[:m.start()] + s[m.end():j] + s[j + 1:]
    return s


def normalize(answer: str) -> str:
    """The canonical form of an extracted answer (see the module docstring)."""
    s = answer.replace("\0", "").strip()  # NUL marks kept spaces below
    s = _SUPERSCRIPT.sub(lambda m: "^{" + m.group(0).translate(_SUPERSCRIPT_MAP) + "}", s)
    s = _UNICODE_RE.sub(lambda m: _UNICODE[m.group(0)], s).translate(_FULL_WIDTH)
    s = _OTHER_SCRIPTS.sub(" ", s).strip().rstrip("\u0964.")
    if len(s) < 4000:
        s = _unwrap_fonts(s)
    s = _DOUBLED.sub(r"\\", s)
    s = _MARKDOWN.sub(r"\1", s).replace("**", "^").strip()
    s = _SCIENTIFIC.sub(r"\1\\times10^{\2}", s)
    s = _BRACED_PUNCT.sub(r"\1", s)
    s = _SUBSCRIPT_TOKEN.sub(r"_{\1}", s)
    s = _GLUED_SPACE.sub(" ", s)
    for pattern, repl in _CONSTANTS:
        s = pattern.sub(repl, s)
    s = _FRAC_TOKENS.sub(r"\\\1{\2}{\3}", s)
    s = _FRAC_FIRST.sub(r"\\\1{\2}", s)
    s = _FRAC_SECOND.sub(r"\\\1\2{\3}", s)
    s = _SQRT_TOKEN.sub(r"\\sqrt{\1}", s)
    choice = multiple_choice(s)
    if choice:
        return choice
    for pattern, repl in _ALIASES:
        s = pattern.sub(repl, s)
    s = _SQRT_PAREN.sub(r"\\sqrt{\1}", s)
    s = s.replace("\\%", "%")
    s = _LATEX_THOUSANDS.sub(r"\1\2", s)
    s = _CURRENCY.sub("", s)
    s = _DROP.sub(" ", s)
    s = _PHANTOM.sub("", s)
    s = _APPROX_PREFIX.sub("", s)
    s = _DEGREES.sub("", s)
    s = _texts(s)
    s = _MEMBER_PREFIX.sub("", s)
    s = _LIST_WORD.sub(",", s)  # "1, 2, and 3", "2 or -2"
    s = s.strip().rstrip(".").strip()
    head, eq, last = s.rpartition("=")
    unit = _NUMBER_WITH_UNIT.match(last.strip())
    if unit:  # "5 meters", "Total = 2,450 km"
        s = head + eq + unit.group(1)
    # One space survives only where it ends a command name before a letter (`\sin x`).
    s = _COMMAND_SPACE.sub(lambda m: m.group(1) + "\0", s)
    s = re.sub(r"\s+", "", s).replace("\0", " ")
    s = s.rstrip(".,;")
    head, eq, last = s.rpartition("=")
    if _THOUSANDS.match(last):
        s = head + eq + last.replace(",", "")
    return s


def multiple_choice(s: str) -> str | None:
    """`(C)`, `C)`, `\\textbf{(C)}`, `\\text{C}` → `C`; None when `s` is not a choice letter."""
    inner = s.strip().strip("$").strip()
    inner = re.sub(r"\\(?:textbf|text|mathbf|mathrm)\s*\{\s*(\(?[A-J]\)?)\s*\}", r"\1", inner)
    m = _CHOICE.match(inner)
    if not m:
        return None
    return next(g for g in m.groups() if g)


def _texts(s: str) -> str:
    """`\\text{…}` groups: the answer itself when nothing else is there, else units and words."""
    groups = list(_TEXT.finditer(s))
    if not groups:
        return s
    rest = _TEXT.sub("", s)
    if not re.search(r"[0-9a-zA-Z\\]", rest):
        # A text answer such as \text{Evelyn}: keep the words, spaced as written.
        return " ".join(g.group(1).strip() for g in groups) + rest.strip(" ,.")

    def replace(m: re.Match) -> str:
        word = m.group(1).strip()
        if word in ("and", "or", ","):
            return ","
        # A single letter is a symbol set upright (\mathrm{i}, \mathbf{v}), not a unit.
        if len(word) == 1 and word.isalpha() and not m.group(2):
            return word
        return " "

    return re.sub(r",(?:\s*,)+", ",", _TEXT.sub(replace, s))
