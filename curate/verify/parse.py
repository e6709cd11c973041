"""A normalised answer → the value it states: the structure is ours, each expression the grammar's.

The structure of an answer (lists, sets, tuples, intervals, unions, relations and chains, solved
systems, ratios, matrices, `\\pm`) is read here by splitting at separators that stand outside
every bracket (one linear scan per level). What is left, one expression at a time, is read as a
plain number (`curate.verify.numbers`, no sympy) or by latex2sympy2_extended's grammar
(`curate.verify.latex`, eval-free). What an answer parses to:

  sympy Expr               numbers and expressions (`\\frac{1}{2}`, `3\\sqrt2`, `x^2+1`, `\\sum…`)
  Seq(items, open, close)  `(1, 2)`, `[1, 2]`: points, tuples, and intervals whose ends are ambiguous
  SetOf(items)             `\\{1, 2\\}`, bare lists `1, 2`, `a; b`, `2 or -2`, `\\pm` (order-free)
  sympy Interval / Union   `[1, 2)`, `(-\\infty, 0] \\cup (1, \\infty)`, `\\setminus`
  sympy ImmutableMatrix    `\\begin{pmatrix} … \\end{pmatrix}`, `array`, `bmatrix`, …
  Relation(ops, sides)     `x = 3`, `AB = 4`, `x = 2 + 3 = 5`, `0 < x \\le 1`, `x \\approx 3.1`
  Ratio(parts)             `7:32`, `12:00` (never a division)
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import sympy as sp

from curate.verify import numbers
from curate.verify.latex import Unparseable, to_sympy

MAX_DEPTH = 60

__all__ = ["Relation", "Ratio", "Seq", "SetOf", "Unparseable", "as_set", "parse"]


@dataclass(frozen=True)
class Seq:
    items: tuple
    open: str
    close: str


@dataclass(frozen=True)
class SetOf:
    items: tuple
    braces: bool = False  # `\\{…\\}` (a set), not a bare list
    pm: bool = False  # the two values of a `\\pm`


@dataclass(frozen=True)
class Relation:
    ops: tuple  # each one of "=", "<", "<=", ">", ">=", "!="
    sides: tuple


@dataclass(frozen=True)
class Ratio:
    parts: tuple  # sympy Rationals


_TOKEN = re.compile(
    r"\\begin\{[a-zA-Z*]*\}|\\end\{[a-zA-Z*]*\}|\\[{}]|\\\\|\\[a-zA-Z]+|\\.|<=|>=|!=|[(\[{)\]}]|[^\\(\[{)\]}<>!=,;:&|]+|.",
    re.DOTALL,
)
_OPEN = {"(", "[", "{", "\\{"}
_CLOSE = {")", "]", "}", "\\}"}
_RELATIONS = {"=": "=", "==": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "!=": "!=", "\\le": "<=",
              "\\ge": ">=", "\\ne": "!=", "\\lt": "<", "\\gt": ">", "\\approx": "=", "\\equiv": "=",
              "\\simeq": "=", "\\cong": "=", "\\in": "in"}
_SET_OPS = {"\\cup", "\\cap", "\\setminus", "\\backslash"}
_MATRIX_ENVS = {"pmatrix", "bmatrix", "matrix", "vmatrix", "Bmatrix", "smallmatrix", "array", "Vmatrix"}
# Four letters in a row that are not a command's name are a word (prose, code), not a product.
_BASE = re.compile(r"^(\d[0-9A-Za-z]{0,63})_\{(\d{1,2})\}$")
_WORD = re.compile(r"(?<![a-zA-Z\\])[a-zA-Z]{4,}")


def parse(text: str, percent: sp.Expr = sp.Integer(1)):
    """Parse one normalised answer; `percent` is what `%` multiplies by (1 or 1/100)."""
    return _Reader(percent).items(text, 0)


def _tokens(s: str) -> list[tuple[str, int]]:
    """(token, depth before it) for each token; brackets of any kind nest, so `[1, 2)` closes."""
    out, depth = [], 0
    for m in _TOKEN.finditer(s):
        tok = m.group(0)
        if tok in _CLOSE or tok.startswith("\\end{"):
            depth -= 1
            if depth < 0:
                raise Unparseable(f"unbalanced {tok!r}")
            out.append((tok, depth))
            continue
        out.append((tok, depth))
        if tok in _OPEN or tok.startswith("\\begin{"):
            depth += 1
    if depth != 0:
        raise Unparseable("unbalanced brackets")
    return out


def _split(tokens, is_sep) -> tuple[list[str], list[str]]:
    """Pieces between top-level separators, and the separators."""
    pieces, seps, cur = [], [], []
    for tok, depth in tokens:
        if depth == 0 and is_sep(tok):
            pieces.append("".join(cur))
            seps.append(tok)
            cur = []
        else:
            cur.append(tok)
    pieces.append("".join(cur))
    return pieces, seps


def _wrapped(tokens) -> bool:
    """Whether the first token's bracket closes at the last token."""
    if len(tokens) < 2 or tokens[0][0] not in _OPEN and not tokens[0][0].startswith("\\begin{"):
        return False
    return all(d > 0 for _, d in tokens[1:-1]) and tokens[-1][1] == 0


class _Reader:
    def __init__(self, percent):
        self.percent = percent
        self.names_only = False  # reading a side that only names a value: no grammar

    def items(self, s: str, depth: int):
        if depth > MAX_DEPTH:
            raise Unparseable(f"nested more than {MAX_DEPTH} levels deep")
        s = s.strip()
        if not s:
            raise Unparseable("an empty item")
        tokens = _tokens(s)
        groups, _ = _split(tokens, lambda t: t == ";")
        if len(groups) > 1:
            return SetOf(tuple(self.items(g, depth + 1) for g in groups if g.strip()))
        pieces, _ = _split(tokens, lambda t: t == ",")
        if len(pieces) > 1:
            return SetOf(tuple(self.relation(p, depth + 1) for p in pieces))
        return self.relation(s, depth + 1)

    def relation(self, s: str, depth: int):
        s = s.strip()
        if not s:
            raise Unparseable("an empty item")
        tokens = _tokens(s)
        sides, ops = _split(tokens, lambda t: t in _RELATIONS or t in "=<>")
        if not ops:
            return self.set_expr(s, tokens, depth)
        ops = [_RELATIONS[o] for o in ops]
        if ops[0] == "=" and not sides[0].strip() and len(sides) > 1:  # "= 5", "\approx 3.1"
            return self.relation("".join(sides[1:]) if len(ops) == 1 else s.lstrip("= "), depth)
        if "in" in ops:
            # `x \in [-2, 7]`: the set; `x \in \{1, 2\}`: its elements
            if ops == ["in"]:
                return self.set_expr(sides[1], _tokens(sides[1].strip()), depth)
            raise Unparseable("\\in inside a chain")
        values = [self._side(side.strip(), depth, name=k < len(sides) - 1) for k, side in enumerate(sides)]
        return Relation(tuple(ops), tuple(values))

    def _side(self, side: str, depth: int, name: bool):
        """A side of a relation. A side before the last that is more than arithmetic (`f(x)`,
        `S_{10}`, `\\max\\{3, 5\\}`, `\\int_0^1 x^2\\,dx`) is not read at all: it names the value on
        its right, as a symbol spelled by its text (the same text is the same name)."""
        if not name:
            return self.set_expr(side, _tokens(side), depth)
        try:
            self.names_only = True
            return self.set_expr(side, _tokens(side), depth)
        except Unparseable:
            return sp.Symbol("{" + side + "}")
        finally:
            self.names_only = False

    def set_expr(self, s: str, tokens, depth: int):
        if not s:
            raise Unparseable("an empty side")
        pieces, ops = _split(tokens, lambda t: t in _SET_OPS)
        if not ops:
            return self.atom(s, tokens, depth)
        value = as_set(self.atom(pieces[0].strip(), _tokens(pieces[0].strip()), depth))
        for op, piece in zip(ops, pieces[1:]):
            right = as_set(self.atom(piece.strip(), _tokens(piece.strip()), depth))
            if op == "\\cup":
                value = sp.Union(value, right)
            elif op == "\\cap":
                value = sp.Intersection(value, right)
            else:
                value = sp.Complement(value, right)
        return value

    def atom(self, s: str, tokens, depth: int):
        if depth > MAX_DEPTH:
            raise Unparseable(f"nested more than {MAX_DEPTH} levels deep")
        if not tokens:
            raise Unparseable("an empty item")
        pm = [i for i, (t, d) in enumerate(tokens) if d == 0 and t in ("\\pm", "\\mp")]
        if pm:
            i = pm[0]
            head = "".join(t for t, _ in tokens[:i])
            tail = "".join(t for t, _ in tokens[i + 1:])
            out = []
            for sign in ("+", "-"):
                value = self.atom(head + sign + tail, _tokens(head + sign + tail), depth + 1)
                out.extend(value.items if isinstance(value, SetOf) else (value,))
            return SetOf(tuple(out), pm=True)
        first = tokens[0][0]
        if _wrapped(tokens):
            inner = "".join(t for t, _ in tokens[1:-1])
            last = tokens[-1][0]
            if first.startswith("\\begin{"):
                return self.matrix(first[7:-1], inner, depth)
            if first == "\\{":
                builder = _split(_tokens(inner), lambda t: t in ("\\mid", "|", ":"))[0]
                if len(builder) == 2:  # set-builder {x | -2 <= x < 1}: the condition
                    return self.items(builder[1], depth + 1)
                value = self.items(inner, depth + 1) if inner.strip() else None
                if value is None:
                    return sp.EmptySet
                items = value.items if isinstance(value, SetOf) else (value,)
                flat = []  # \{0, \pm 2\}: the ± pair are two elements
                for item in items:
                    flat.extend(item.items if isinstance(item, SetOf) and not item.braces else (item,))
                return SetOf(tuple(flat), braces=True)
            pieces, _ = _split(_tokens(inner), lambda t: t in (",", ";"))
            if first == "{":
                return self.items(inner, depth + 1)
            if len(pieces) == 1:
                if first + last in ("()", "[]"):
                    return self.items(inner, depth + 1)
                raise Unparseable(f"{first}…{last} around one value")
            items = tuple(self.relation(p, depth + 1) for p in pieces)
            if len(items) == 2 and first + last in ("(]", "[)"):
                return sp.Interval(_expr(items[0]), _expr(items[1]), first == "(", last == ")")
            if any(isinstance(i, SetOf) and i.pm for i in items):  # (\pm 1, 0): two points
                choices = [i.items if isinstance(i, SetOf) and i.pm else (i,) for i in items]
                return SetOf(tuple(Seq(tuple(c), first, last) for c in itertools.product(*choices)))
            return Seq(items, first, last)
        colon, _ = _split(tokens, lambda t: t == ":")
        if len(colon) > 1:
            parts = [numbers.plain(p.strip()) for p in colon]
            if any(p is None or p.percent for p in parts):
                raise Unparseable("':' between things that are not numbers")
            return Ratio(tuple(sp.Rational(p.value.numerator, p.value.denominator) for p in parts))
        return self.leaf(s)

    def leaf(self, s: str):
        base = _BASE.match(s)
        if base and 2 <= int(base.group(2)) <= 36:  # 52_8, 1011_{2}: a numeral in a base, read by int()
            digits, radix = base.group(1), int(base.group(2))
            try:
                return sp.Integer(int(digits, radix))
            except ValueError:
                raise Unparseable(f"{digits} is not a numeral in base {radix}") from None
        plain = numbers.plain(s)
        if plain is not None:
            value = sp.Rational(plain.value.numerator, plain.value.denominator)
            return value * self.percent if plain.percent else value
        if s.endswith("%"):
            return _expr(self.leaf(s[:-1].strip())) * self.percent
        word = _WORD.search(re.sub(r"\\(?:begin|end|operatorname|mathrm|text)\{[a-zA-Z]*\}", "", s))
        if word:
            raise Unparseable(f"the word {word.group(0)[:20]!r} is not math")
        value = to_sympy(s.replace("%", "\\%"), grammar=not self.names_only)
        if value is None:
            return sp.Symbol("{" + s + "}")
        if isinstance(value, sp.Basic) and value.is_Relational:
            return _relation_of(value)
        return value

    def matrix(self, env: str, inner: str, depth: int):
        if env not in _MATRIX_ENVS:
            raise Unparseable(f"unknown environment {env!r}")
        if env == "array":
            inner = re.sub(r"^\s*\{[^{}]*\}", "", inner, count=1)  # the column spec {cc}
        rows = []
        for row in _split(_tokens(inner), lambda t: t == "\\\\")[0]:
            if not row.strip() or row.strip() == "\\hline":
                continue
            cells = _split(_tokens(row), lambda t: t == "&")[0]
            rows.append([_expr(self.relation(c.replace("\\hline", ""), depth + 1)) for c in cells])
        if not rows or len({len(r) for r in rows}) != 1:
            raise Unparseable("matrix rows of different lengths")
        m = sp.ImmutableMatrix(rows)
        return m.det() if env in ("vmatrix", "Vmatrix") else m


def _relation_of(rel) -> Relation:
    ops = {sp.Eq: "=", sp.Ne: "!=", sp.Lt: "<", sp.Le: "<=", sp.Gt: ">", sp.Ge: ">="}
    for cls, op in ops.items():
        if isinstance(rel, cls):
            return Relation((op,), (rel.lhs, rel.rhs))
    raise Unparseable("an unknown relation")


def _expr(value) -> sp.Expr:
    if isinstance(value, sp.Expr) and not isinstance(value, sp.MatrixBase):
        return value
    raise Unparseable("arithmetic on a tuple, set, interval or relation")


def as_set(value):
    """A value that `\\cup` can join: intervals, `(a, b)` read as open, sets of numbers."""
    if isinstance(value, sp.Set):
        return value
    if isinstance(value, Seq) and len(value.items) == 2:
        return sp.Interval(_expr(value.items[0]), _expr(value.items[1]), value.open == "(", value.close == ")")
    if isinstance(value, SetOf):
        return sp.FiniteSet(*[_expr(i) for i in value.items])
    if isinstance(value, sp.Expr) and value.is_number:
        return sp.FiniteSet(value)
    raise Unparseable("a set operation on something that is not a set or interval")
