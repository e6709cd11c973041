"""Plain numbers without sympy: the cheap path that decides most numeric answers.

A normalised answer that is an integer, a decimal, a fraction `\\frac{a}{b}` or `a/b`, a mixed
number `-3\\frac{1}{2}` (= -3.5) or a percentage of one of those is read with `fractions.Fraction`
and compared exactly. Rounded answers compare at the precision they are written in (see
`close`): `0.333` equals `\\frac13` and `1/3`, but `1/2^{99}` never equals `1/2^{98}` (there is no
absolute tolerance, only the half-unit of the last digit an answer actually wrote).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

MAX_DIGITS = 400
_INT = r"\d+"
_DEC = r"\d+(?:\.\d+)?|\.\d+"
_PLAIN = re.compile(
    rf"^(?P<sign>[-+]?)(?:(?P<whole>{_INT})?\\frac\{{(?P<fn>{_INT})\}}\{{(?P<fd>{_INT})\}}"
    rf"|(?P<n>{_DEC})(?:/(?P<d>{_INT}))?)(?P<pct>%)?$"
)


@dataclass(frozen=True)
class Plain:
    value: Fraction
    places: int | None  # decimal places written (0.333 → 3); None when exact (5, 1/3)
    digits: int  # significant digits written
    percent: bool


def plain(text: str) -> Plain | None:
    """The number a normalised answer is, when it is a plain one; None otherwise."""
    if len(text) > MAX_DIGITS:
        return None
    m = _PLAIN.match(text)
    if not m:
        return None
    sign = -1 if m.group("sign") == "-" else 1
    places = None
    if m.group("fn") is not None:
        den = int(m.group("fd"))
        if den == 0:
            return None
        value = Fraction(int(m.group("fn")), den)
        if m.group("whole") is not None:  # a mixed number: -3\frac12 is -(3 + 1/2)
            value += int(m.group("whole"))
        digits = len(m.group("fn").lstrip("0"))
    else:
        n = m.group("n")
        value = Fraction(n)
        if "." in n:
            places = len(n.partition(".")[2])
        digits = len(n.replace(".", "").lstrip("0"))
        if m.group("d") is not None:
            den = int(m.group("d"))
            if den == 0:
                return None
            value /= den
            places = None if places is None else places
    return Plain(sign * value, places if m.group("d") is None else None, digits, m.group("pct") is not None)


def close(gold: Fraction, pred: Fraction, places: int | None, digits: int, rel_tol: float,
          min_digits: int) -> bool:
    """Equal, within `rel_tol`, or (for an answer rounded to `places` decimals with at least
    `min_digits` significant digits) within half a unit of its last place."""
    if gold == pred:
        return True
    scale = max(abs(gold), abs(pred))
    if rel_tol and abs(gold - pred) <= Fraction(rel_tol) * scale and not (
            gold.denominator == 1 and pred.denominator == 1):  # counts: 1000001 is not 1000000
        return True
    if places is not None and digits >= min_digits:
        return abs(gold - pred) <= Fraction(1, 2 * 10 ** places)
    return False


def decimal_places(text: str) -> int | None:
    """The most decimal places among the decimal literals of `text` (None when it has none)."""
    found = [len(m.group(1)) for m in re.finditer(r"(?<![\d.])\d*\.(\d+)(?![\d.])", text)]
    return max(found) if found else None


def significant_digits(text: str) -> int:
    """The fewest significant digits among the decimal literals of `text`."""
    found = [len(m.group(0).replace(".", "").lstrip("0")) for m in re.finditer(r"(?<![\d.])\d*\.\d+(?![\d.])", text)]
    return min(found) if found else 0
