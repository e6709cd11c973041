"""LaTeX and plain math to sympy, by a recursive-descent parser that builds sympy objects directly.

Model output is untrusted, so nothing here calls `eval`, `sympify`, `parse_expr` or `S()` on it:
the text is split into tokens by one regex, and every value is made by a sympy constructor
(`Integer`, `Rational`, `Symbol`, `Add`, …) from pieces the parser has checked. Sizes that would
make sympy compute for ever at construction time (`10^{10^{10}}`, `(10^6)!`, 5,000-digit literals)
are refused here; anything slower is cut off by the worker pool's time limit.

What an answer parses to:
  sympy Expr              numbers and expressions (`\\frac{1}{2}`, `3\\sqrt2`, `x^2+1`)
  Seq(items, open, close) `(1, 2)`, `[1, 2]`: points, tuples, and intervals whose ends are ambiguous
  SetOf(items)            `\\{1, 2\\}` and bare lists `1, 2` (order-free)
  sympy Interval / Union  `[1, 2)`, `(-\\infty, 0] \\cup (1, \\infty)`
  sympy ImmutableMatrix   `\\begin{pmatrix} … \\end{pmatrix}`
  Relation(ops, sides)    `x = 3`, `y = 2x + 1`, `0 < x \\le 1`
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import sympy as sp

MAX_TOKENS = 4000
MAX_DEPTH = 120
MAX_DIGITS = 1000  # digits of a literal
MAX_BITS = 100_000  # size of an exact power computed at construction
MAX_FACTORIAL = 5000

# ± becomes a+PM·b; a Dummy cannot be written in any text, so no answer can collide with it.
PM = sp.Dummy("pm")


class Unparseable(ValueError):
    """The text is not an answer the parser understands (the message says where and why)."""


@dataclass(frozen=True)
class Seq:
    items: tuple
    open: str
    close: str


@dataclass(frozen=True)
class SetOf:
    items: tuple


@dataclass(frozen=True)
class Relation:
    ops: tuple  # each one of "=", "<", "<=", ">", ">=", "!="
    sides: tuple


_TOKEN = re.compile(
    r"(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+(?![a-zA-Z]))?|\.\d+)"
    r"|(?P<cmd>\\[a-zA-Z]+|\\.)"
    r"|(?P<letter>[a-zA-Z])"
    r"|(?P<op><=|>=|!=|\*\*|==|[-+*/^_()\[\]{}|,=<>!'&%:;])"
    r"|(?P<ws>\s+)"
)

_RELATIONS = {"=": "=", "==": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "!=": "!=",
              "\\le": "<=", "\\ge": ">=", "\\ne": "!=", "\\lt": "<", "\\gt": ">", "\\approx": "=",
              "\\equiv": "="}
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
          "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi",
          "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega"}
_FUNCTIONS = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "cot": sp.cot, "sec": sp.sec, "csc": sp.csc,
    "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh,
    "tanh": sp.tanh, "ln": sp.log, "log": sp.log, "exp": sp.exp,
}
_INVERSES = {"sin": sp.asin, "cos": sp.acos, "tan": sp.atan}
_MATRIX_ENVS = {"pmatrix", "bmatrix", "matrix", "vmatrix", "Bmatrix", "smallmatrix", "array"}
_ATOM_START_OPS = {"(", "[", "{", "|"}


def parse(text: str, percent: sp.Expr = sp.Integer(1)):
    """Parse one normalised answer; `percent` is what `%` multiplies by (1 or 1/100)."""
    tokens = tokenize(text)
    parser = _Parser(tokens, percent)
    value = parser.answer()
    return _expand_pm(value)


# Four letters in a row that are not a command's name are a word (prose, code), not a product.
_WORD = re.compile(r"(?<![a-zA-Z\\])[a-zA-Z]{4,}")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\{[a-zA-Z]*\}")


def tokenize(text: str) -> list[tuple[str, str]]:
    word = _WORD.search(_ENVIRONMENT.sub("", text))
    if word:
        raise Unparseable(f"the word {word.group(0)[:20]!r} is not math")
    tokens = []
    pos = 0
    for m in _TOKEN.finditer(text):
        if m.start() != pos:
            break
        pos = m.end()
        if m.lastgroup != "ws":
            tokens.append((m.lastgroup, m.group(0)))
            if len(tokens) > MAX_TOKENS:
                raise Unparseable(f"answer has more than {MAX_TOKENS} tokens")
    if pos != len(text):
        raise Unparseable(f"unexpected character {text[pos]!r}")
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], percent: sp.Expr):
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.abs_depth = 0
        self.percent = percent

    # ------------------------------------------------------------------------------- helpers

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def kind(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        if self.pos >= len(self.tokens):
            raise Unparseable("answer ends too early")
        tok = self.tokens[self.pos][1]
        self.pos += 1
        return tok

    def accept(self, *values: str) -> str | None:
        if self.peek() in values:
            return self.take()
        return None

    def expect(self, value: str) -> None:
        if self.accept(value) is None:
            raise Unparseable(f"expected {value!r} but found {self.peek()!r}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Unparseable(f"nested more than {MAX_DEPTH} levels deep")

    # ------------------------------------------------------------------------------- grammar

    def answer(self):
        items = self.items(end=None)
        if self.pos != len(self.tokens):
            raise Unparseable(f"unexpected {self.peek()!r}")
        return items[0] if len(items) == 1 else SetOf(tuple(items))

    def items(self, end) -> list:
        """Comma-separated relations up to `end` (a closing token, or None for the end)."""
        if self.peek() in (end if isinstance(end, tuple) else (end,)):
            return []
        items = [self.relation()]
        while self.accept(",", ";"):
            items.append(self.relation())
        return items

    def relation(self):
        if self.pos < len(self.tokens) and any(t == ":" for _, t in self.tokens):
            return self.ratio()
        sides = [self.union()]
        ops = []
        while self.peek() in _RELATIONS:
            ops.append(_RELATIONS[self.take()])
            sides.append(self.union())
        return Relation(tuple(ops), tuple(sides)) if ops else sides[0]

    def ratio(self):
        """`3:1` is the number 3; a colon between anything but numbers is not an answer."""
        left = _expr(self.expr())
        self.expect(":")
        right = _expr(self.expr())
        if left.free_symbols or right.free_symbols:
            raise Unparseable("':' between things that are not numbers")
        return _arith(sp.Mul, left, _reciprocal(right))

    def union(self):
        value = self.expr()
        if self.peek() not in ("\\cup", "\\cap"):
            return value
        while (op := self.accept("\\cup", "\\cap")) is not None:
            right = as_set(self.expr())
            value = sp.Union(as_set(value), right) if op == "\\cup" else sp.Intersection(as_set(value), right)
        return value

    def expr(self):
        self.enter()
        value = self.term()
        while (op := self.accept("+", "-", "\\pm", "\\mp")) is not None:
            right = self.term()
            if op == "+":
                value = _arith(sp.Add, value, right)
            elif op == "-":
                value = _arith(sp.Add, value, _neg(right))
            else:
                value = _arith(sp.Add, value, _arith(sp.Mul, PM if op == "\\pm" else -PM, right))
        self.depth -= 1
        return value

    def term(self):
        value = self.unary()
        while True:
            tok = self.peek()
            if tok in ("*", "\\cdot", "\\times", "\\ast"):
                self.take()
                value = _arith(sp.Mul, value, self.unary())
            elif tok in ("/", "\\div"):
                self.take()
                value = _arith(sp.Mul, value, _reciprocal(self.unary()))
            elif self.starts_atom():
                if tok == "\\frac" and _is_integer_literal(value) and self.next_is_numeric_frac():
                    value = _arith(sp.Add, value, self.power())  # mixed number: 3\frac12 = 3 + 1/2
                else:
                    value = _arith(sp.Mul, value, self.power())
            else:
                return value

    def starts_atom(self) -> bool:
        kind, tok = self.kind(), self.peek()
        if kind in ("num", "letter"):
            return True
        if kind == "cmd":
            return tok not in _RELATIONS and tok not in ("\\cdot", "\\times", "\\div", "\\pm", "\\mp",
                                                         "\\cup", "\\cap", "\\right", "\\rfloor", "\\rceil",
                                                         "\\end", "\\\\", "\\}", "\\ast")
        if tok == "|":
            return self.abs_depth == 0
        return tok in _ATOM_START_OPS

    def next_is_numeric_frac(self) -> bool:
        window = [t for _, t in self.tokens[self.pos + 1:self.pos + 8]]
        text = "".join(window)
        return re.match(r"^(?:\{\d+\}\{\d+\}|\d\d|\{\d+\}\d|\d\{\d+\})", text) is not None

    def unary(self):
        if self.accept("-"):
            self.enter()
            value = _neg(self.unary())
            self.depth -= 1
            return value
        if self.accept("+"):
            return self.unary()
        return self.power()

    def power(self):
        base = self.postfix()
        if self.accept("^", "**"):
            base = _pow(base, self.exponent())
            base = self.postfix_ops(base)
        return base

    def exponent(self):
        if self.accept("-"):
            return _neg(self.exponent())
        if self.peek() == "{":
            return self.group()
        return self.postfix()

    def postfix(self):
        return self.postfix_ops(self.atom())

    def postfix_ops(self, value):
        while True:
            if self.accept("!"):
                value = _factorial(value)
            elif self.accept("%"):
                value = _arith(sp.Mul, value, self.percent)
            elif self.accept("'"):
                continue
            else:
                return value

    def group(self):
        """`{…}`: a plain group, or a bare list when it holds commas."""
        self.expect("{")
        self.enter()
        items = self.items(end="}")
        self.expect("}")
        self.depth -= 1
        if len(items) == 1:
            return items[0]
        return SetOf(tuple(items))

    def atom(self):
        kind = self.kind()
        tok = self.peek()
        if kind is None:
            raise Unparseable("answer ends too early")
        if kind == "num":
            tok = self.take()
            if self.accept("_"):  # 52_8: a numeral in base 8
                return _in_base(tok, self.subscript_text())
            return _number(tok)
        if kind == "letter":
            return self.symbol(self.take())
        if tok in ("(", "["):
            return self.bracket()
        if tok == "{":
            return self.group()
        if tok == "|":
            self.take()
            self.abs_depth += 1
            self.enter()
            inner = self.expr()
            self.depth -= 1
            self.abs_depth -= 1
            self.expect("|")
            return sp.Abs(_expr(inner))
        if kind == "cmd":
            return self.command(self.take())
        raise Unparseable(f"unexpected {tok!r}")

    def symbol(self, name: str):
        if self.accept("_"):
            name += "_" + self.subscript_text()
        return sp.Symbol(name)

    def subscript_text(self) -> str:
        if self.peek() == "{":
            self.take()
            parts = []
            while self.peek() not in ("}", None):
                parts.append(self.take())
                if len(parts) > 20:
                    raise Unparseable("subscript too long")
            self.expect("}")
            return "".join(parts)
        return self.take()

    def bracket(self):
        """`(…)` or `[…]`: a group, a tuple or point, or an interval with mixed ends."""
        open_ = self.take()
        self.enter()
        items = self.items(end=(")", "]"))
        close = self.take() if self.peek() in (")", "]") else None
        if close is None:
            raise Unparseable(f"unclosed {open_!r}")
        self.depth -= 1
        if len(items) == 1 and (open_ + close) in ("()", "[]"):
            return items[0]
        if len(items) == 2 and (open_ + close) in ("(]", "[)"):
            return sp.Interval(_expr(items[0]), _expr(items[1]), open_ == "(", close == ")")
        return Seq(tuple(items), open_, close)

    def command(self, cmd: str):
        name = cmd[1:]
        if name == "frac":
            num, den = self.argument(), self.argument()
            return _arith(sp.Mul, num, _reciprocal(den))
        if name == "sqrt":
            index = None
            if self.accept("["):
                index = self.expr()
                self.expect("]")
            radicand = _expr(self.argument())
            return sp.sqrt(radicand) if index is None else sp.root(radicand, _expr(index))
        if name == "binom":
            return _binomial(self.argument(), self.argument())
        if name == "pi":
            return sp.pi
        if name == "infty":
            return sp.oo
        if name == "emptyset":
            return sp.EmptySet
        if name in ("imath", "jmath"):
            return sp.I
        if name in _GREEK:
            return self.symbol(name)
        if name in _FUNCTIONS:
            return self.function(name)
        if name == "lfloor":
            return self.delimited(sp.floor, "\\rfloor")
        if name == "lceil":
            return self.delimited(sp.ceiling, "\\rceil")
        if name == "{":
            self.enter()
            items = self.items(end="\\}")
            self.expect("\\}")
            self.depth -= 1
            return SetOf(tuple(items))
        if name == "begin":
            return self.matrix()
        if name in ("overline", "overrightarrow", "vec", "angle", "triangle", "arc"):
            # Geometry names (\overline{CD}, \angle ABC) are opaque symbols.
            return sp.Symbol(cmd + (self.subscript_text() if self.peek() == "{" else self.take()))
        raise Unparseable(f"unknown command {cmd}")

    def delimited(self, fn, close: str):
        self.enter()
        inner = self.expr()
        self.depth -= 1
        self.expect(close)
        return fn(_expr(inner))

    def argument(self):
        """A command's argument: `{…}`, or a single token (`\\frac12` reads 1 and 2)."""
        if self.peek() == "{":
            return self.group()
        kind, tok = self.kind(), self.peek()
        if kind == "num" and len(tok) > 1:
            # Split off the first digit for the argument, leave the rest as the next token.
            self.tokens[self.pos] = ("num", tok[1:])
            return _number(tok[0])
        return self.atom()

    def function(self, name: str):
        base = None
        if name == "log" and self.accept("_"):
            base = self.argument()
        power = None
        if self.accept("^"):
            power = self.exponent()
        if self.peek() == "(":
            arg = self.bracket()
        else:
            # \sin 2x reads sin(2x): the run of numbers, letters and powers that follows.
            arg = self.power()
            while self.kind() in ("num", "letter") or self.peek() in ("\\pi",) or (
                    self.kind() == "cmd" and self.peek()[1:] in _GREEK):
                arg = _arith(sp.Mul, arg, self.power())
        arg = _expr(arg)
        if power is not None and power == -1 and name in _INVERSES:
            return _INVERSES[name](arg)
        value = sp.log(arg, _expr(base)) if base is not None else _FUNCTIONS[name](arg)
        return _pow(value, power) if power is not None else value

    def matrix(self):
        self.expect("{")
        env = ""
        while self.peek() not in ("}", None):
            env += self.take()
        self.expect("}")
        if env not in _MATRIX_ENVS:
            raise Unparseable(f"unknown environment {env!r}")
        if env == "array" and self.peek() == "{":  # column spec {cc}
            while self.take() != "}":
                pass
        rows = [[]]
        while True:
            if self.accept("\\end"):
                break
            if self.accept("\\\\"):
                rows.append([])
                continue
            if self.accept("&"):
                continue
            rows[-1].append(_expr(self.expr()))
        self.expect("{")
        while self.take() != "}":
            pass
        rows = [r for r in rows if r]
        if not rows or len({len(r) for r in rows}) != 1:
            raise Unparseable("matrix rows of different lengths")
        if env == "vmatrix":
            return sp.ImmutableMatrix(rows).det()
        return sp.ImmutableMatrix(rows)


# ----------------------------------------------------------------------------- constructors

def _expr(value) -> sp.Expr:
    if isinstance(value, sp.Expr) and not isinstance(value, sp.MatrixBase):
        return value
    raise Unparseable("arithmetic on a tuple, set, interval or relation")


def _arith(op, a, b):
    return op(_expr(a), _expr(b))


def _neg(value):
    return sp.Mul(sp.Integer(-1), _expr(value))


def _reciprocal(value):
    return _pow(value, sp.Integer(-1))


def _number(tok: str) -> sp.Expr:
    """A decimal literal as an exact Rational: 0.5 is 1/2, 1.5e3 is 1500."""
    mantissa, _, exp = tok.lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0") or "0"
    if len(whole + frac) > 2 * MAX_DIGITS or len(digits) > MAX_DIGITS or len(exp) > 5:
        raise Unparseable(f"number too long ({len(digits)} digits)")
    shift = int(exp) if exp else 0
    if abs(shift) > MAX_DIGITS:
        raise Unparseable("exponent of a number too large")
    value = sp.Rational(int(whole + frac or "0"), 10 ** len(frac))
    return value * sp.Rational(10) ** shift if shift else value


def _in_base(digits: str, base: str) -> sp.Rational:
    """`1011_2` and `0.0011_{2}`: the digits read in `base`, by int(), never eval."""
    if not base.isdigit() or not 2 <= int(base) <= 36:
        raise Unparseable(f"base {base!r} of a numeral")
    whole, _, frac = digits.partition(".")
    b = int(base)
    try:
        return sp.Rational(int(whole + frac, b), b ** len(frac))
    except ValueError:
        raise Unparseable(f"{digits} is not a numeral in base {base}") from None


def _pow(base, exp):
    base, exp = _expr(base), _expr(exp)
    if exp.is_Rational and base.is_Rational and base not in (0, 1, -1) and abs(exp) > 1:
        p, q = base.as_numer_denom()
        bits = float(abs(exp)) * math.log2(max(abs(int(p)), abs(int(q)), 2))
        if bits > MAX_BITS:
            raise Unparseable("power too large to compute")
    if exp.is_Rational and abs(exp.p) > 10**6 and base.is_number and not base.is_Rational:
        raise Unparseable("power too large to compute")
    if exp.is_Pow and exp.base.is_Rational and exp.exp.is_Rational and exp.exp > 64:
        raise Unparseable("power tower too large to compute")
    return sp.Pow(base, exp)


def _factorial(value):
    value = _expr(value)
    if value.is_Integer and value > MAX_FACTORIAL:
        raise Unparseable(f"factorial of a number above {MAX_FACTORIAL}")
    if value.is_number and not value.is_Integer and (value.is_real and abs(value) > MAX_FACTORIAL):
        raise Unparseable(f"factorial of a number above {MAX_FACTORIAL}")
    return sp.factorial(value)


def _binomial(n, k):
    n, k = _expr(n), _expr(k)
    if n.is_Integer and k.is_Integer and min(k, n - k) > MAX_FACTORIAL:
        raise Unparseable("binomial coefficient too large to compute")
    return sp.binomial(n, k)


def _is_integer_literal(value) -> bool:
    return isinstance(value, sp.Integer)


def as_set(value):
    """A value that `\\cup` can join: intervals, `(a, b)` read as open, sets of numbers."""
    if isinstance(value, sp.Set):
        return value
    if isinstance(value, Seq) and len(value.items) == 2:
        return sp.Interval(_expr(value.items[0]), _expr(value.items[1]), value.open == "(", value.close == ")")
    if isinstance(value, SetOf):
        return sp.FiniteSet(*[_expr(i) for i in value.items])
    raise Unparseable("\\cup of something that is not a set or interval")


def _expand_pm(value):
    """`a \\pm b` is the set {a + b, a - b}."""
    if isinstance(value, sp.Expr) and PM in value.free_symbols:
        return SetOf((value.subs(PM, 1), value.subs(PM, -1)))
    if isinstance(value, SetOf) and any(isinstance(i, sp.Expr) and PM in i.free_symbols for i in value.items):
        out = []
        for item in value.items:
            expanded = _expand_pm(item)
            out.extend(expanded.items if isinstance(expanded, SetOf) else (expanded,))
        return SetOf(tuple(out))
    return value
