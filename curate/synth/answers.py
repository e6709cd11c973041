"""Answer values and the equivalent LaTeX forms each can be written in.

A synthetic problem knows its answer as a value (a rational, a surd, a multiple of π, a root set,
an interval, a pair). Each value renders to several LaTeX strings that are mathematically equal
(`\\frac{1}{2}`, `\\dfrac12`, `0.5`, `1/2`): the gold answer uses one, a correct trace may box
another. That gap is what an answer verifier has to close, so every form is named and recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


def is_terminating(q: Fraction) -> bool:
    """True when q has a finite decimal expansion (denominator has only the factors 2 and 5)."""
    d = q.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def decimal(q: Fraction, places: int | None = None) -> str:
    """Exact decimal text of a terminating fraction (`Fraction(5, 4)` → `1.25`)."""
    sign = "-" if q < 0 else ""
    q = abs(q)
    whole, rest = divmod(q.numerator, q.denominator)
    digits = ""
    while rest and len(digits) < 12:
        rest *= 10
        digit, rest = divmod(rest, q.denominator)
        digits += str(digit)
    if places is not None:
        digits = digits.ljust(places, "0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


def frac(q: Fraction, cmd: str = "frac") -> str:
    """`\\frac{a}{b}` for a non-integer, the integer itself otherwise; the sign goes in front."""
    if q.denominator == 1:
        return str(q.numerator)
    sign = "-" if q < 0 else ""
    return f"{sign}\\{cmd}{{{abs(q.numerator)}}}{{{q.denominator}}}"


def plain(q: Fraction) -> str:
    """How a reasoning trace writes a number in running text: `7`, `3/4`, `-5/2`."""
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def rational_forms(q: Fraction) -> dict[str, str]:
    """Equivalent LaTeX for a rational number, by form name."""
    if q.denominator == 1:
        forms = {"int": str(q.numerator)}
        if abs(q) >= 1000:
            forms["int_sep"] = f"{q.numerator:,}".replace(",", "{,}")
        return forms
    forms = {"frac": frac(q), "dfrac": frac(q, "dfrac"), "slash": plain(q)}
    if abs(q.numerator) < 10 and q.denominator < 10:
        forms["dfrac_short"] = ("-" if q < 0 else "") + f"\\dfrac{abs(q.numerator)}{q.denominator}"
    if q < 0:
        forms["frac_neg_num"] = f"\\frac{{{q.numerator}}}{{{q.denominator}}}"
    if is_terminating(q) and len(decimal(q)) <= 8:
        forms["decimal"] = decimal(q)
    return forms


@dataclass(frozen=True)
class Number:
    """A rational answer; `percent` answers may carry `\\%`, `money` answers two decimals."""

    q: Fraction
    percent: bool = False
    money: bool = False

    def forms(self) -> dict[str, str]:
        if self.money:
            forms = {"money": decimal(self.q, 2), "decimal": decimal(self.q)}
            forms["dollar"] = f"\\${forms['money']}"
            return forms
        forms = rational_forms(self.q)
        if self.percent:
            forms = {**{f"{k}_percent": f"{v}\\%" for k, v in forms.items() if k != "dfrac_short"}, **forms}
        return forms

    def text(self) -> str:
        if self.money:
            return f"${decimal(self.q, 2)}"
        return plain(self.q) + ("%" if self.percent else "")


@dataclass(frozen=True)
class Surd:
    """coef·√radicand with a square-free radicand > 1."""

    coef: Fraction
    radicand: int

    def forms(self) -> dict[str, str]:
        a, b, r = self.coef.numerator, self.coef.denominator, self.radicand
        sign, a = ("-" if a < 0 else ""), abs(a)
        lead = "" if a == 1 else str(a)
        inner = a * a * r
        if b == 1:
            forms = {"surd": f"{sign}{lead}\\sqrt{{{r}}}", "sqrt_combined": f"{sign}\\sqrt{{{inner}}}"}
            if r < 10:
                forms["surd_nobrace"] = f"{sign}{lead}\\sqrt{r}"
            if lead:
                forms["cdot"] = f"{sign}{lead} \\cdot \\sqrt{{{r}}}"
            return forms
        return {
            "frac_surd": f"{sign}\\frac{{{lead}\\sqrt{{{r}}}}}{{{b}}}",
            "frac_times": f"{sign}\\frac{{{a}}}{{{b}}}\\sqrt{{{r}}}",
            "dfrac_surd": f"{sign}\\dfrac{{{lead}\\sqrt{{{r}}}}}{{{b}}}",
            "sqrt_combined": f"{sign}\\frac{{\\sqrt{{{inner}}}}}{{{b}}}",
        }

    def text(self) -> str:
        a, b = self.coef.numerator, self.coef.denominator
        core = ("" if a == 1 else str(a)) + f"√{self.radicand}"
        return core if b == 1 else f"{core}/{b}"


@dataclass(frozen=True)
class PiMultiple:
    """coef·π (areas and volumes of round things)."""

    coef: Fraction

    def forms(self) -> dict[str, str]:
        a, b = self.coef.numerator, self.coef.denominator
        lead = "" if a == 1 else str(a)
        if b == 1:
            forms = {"pi": f"{lead}\\pi", "pi_space": f"{lead} \\pi"}
            if lead:
                forms["pi_cdot"] = f"{lead} \\cdot \\pi"
            return forms
        forms = {"pi_frac": f"\\frac{{{lead}\\pi}}{{{b}}}", "frac_pi": f"\\frac{{{a}}}{{{b}}}\\pi",
                 "pi_slash": f"{lead}\\pi/{b}"}
        if is_terminating(self.coef) and len(decimal(self.coef)) <= 6:
            forms["decimal_pi"] = f"{decimal(self.coef)}\\pi"
        return forms

    def text(self) -> str:
        return f"{plain(self.coef)}π" if self.coef.denominator == 1 else f"{self.coef.numerator}π/{self.coef.denominator}"


@dataclass(frozen=True)
class RootSet:
    """The solution set of an equation in `var` (sorted, distinct roots)."""

    roots: tuple[Fraction, ...]
    var: str = "x"

    def forms(self) -> dict[str, str]:
        items = [frac(r) for r in self.roots]
        joined, back = ", ".join(items), ", ".join(reversed(items))
        forms = {"set": f"\\{{{joined}\\}}", "list": joined, "in_set": f"{self.var} \\in \\{{{joined}\\}}"}
        if len(items) > 1:
            forms["set_reversed"] = f"\\{{{back}\\}}"
            forms["or"] = " \\text{ or } ".join(f"{self.var} = {i}" for i in items)
        else:
            forms["equation"] = f"{self.var} = {items[0]}"
        return forms

    def text(self) -> str:
        return " or ".join(f"{self.var} = {plain(r)}" for r in self.roots)


@dataclass(frozen=True)
class Interval:
    """The solution set of an inequality; None is an infinite end."""

    lo: Fraction | None
    hi: Fraction | None
    lo_closed: bool
    hi_closed: bool
    var: str = "x"

    def forms(self) -> dict[str, str]:
        lo = "-\\infty" if self.lo is None else frac(self.lo)
        hi = "\\infty" if self.hi is None else frac(self.hi)
        lb = "[" if self.lo_closed and self.lo is not None else "("
        rb = "]" if self.hi_closed and self.hi is not None else ")"
        forms = {"interval": f"{lb}{lo}, {hi}{rb}",
                 "left_right": f"\\left{lb}{lo}, {hi}\\right{rb}",
                 "in_interval": f"{self.var} \\in {lb}{lo}, {hi}{rb}"}
        for name, closed in (("inequality", "\\leq"), ("inequality_le", "\\le")):
            open_ = "<"
            parts = []
            if self.lo is not None:
                parts.append(f"{lo} {closed if self.lo_closed else open_} ")
            parts.append(self.var)
            if self.hi is not None:
                parts.append(f" {closed if self.hi_closed else open_} {hi}")
            forms[name] = "".join(parts)
        return forms

    def text(self) -> str:
        return self.forms()["interval"]


@dataclass(frozen=True)
class Pair:
    """The solution (x, y) of a system of two equations."""

    x: Fraction
    y: Fraction

    def forms(self) -> dict[str, str]:
        x, y = frac(self.x), frac(self.y)
        return {"tuple": f"({x}, {y})", "left_right": f"\\left({x}, {y}\\right)",
                "equations": f"x = {x}, y = {y}", "equations_and": f"x = {x} \\text{{ and }} y = {y}"}

    def text(self) -> str:
        return f"x = {plain(self.x)}, y = {plain(self.y)}"


Value = Number | Surd | PiMultiple | RootSet | Interval | Pair


def forms_of(v: Value) -> dict[str, str]:
    """`v.forms()`, kept on the value: traces ask for the same answer's forms many times, and a
    dict cache keyed by value would hash Fractions on every call. Do not mutate the result."""
    cached = v.__dict__.get("_forms")
    if cached is None:
        cached = v.forms()
        object.__setattr__(v, "_forms", cached)  # not a field: equality and hashing ignore it
    return cached


def canonical(v: Value) -> str:
    """The first (most conventional) LaTeX form of a value."""
    return next(iter(forms_of(v).values()))
