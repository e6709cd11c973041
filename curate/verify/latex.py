"""One LaTeX expression → sympy, through latex2sympy2_extended's ANTLR grammar (Math-Verify's).

The grammar builds sympy objects from its parse tree. Two of its paths would hand a digit string
to `sympy.Number(str)`, which runs `sympify` (and so `parse_expr` and `eval`): its number
literals and its "1,234" shortcut. `_Converter` overrides both to build numbers with
`Integer`/`Rational` from the digits, so no text of an answer reaches `eval`, `sympify`,
`parse_expr` or `S()` (tests/test_verify.py checks this by making those raise). Sizes that would
make sympy compute for ever at construction (`10^{10^{10}}`, `100000!`) are refused after the
parse, before anything evaluates them; slower cases are cut off by the worker's time limit.
"""

from __future__ import annotations

import math
import re

import sympy as sp
from latex2sympy2_extended.latex2sympy2 import ConversionConfig, _Latex2Sympy

MAX_CHARS = 2000
MAX_DIGITS = 1000
MAX_BITS = 100_000
MAX_FACTORIAL = 5000
_NUMBER = re.compile(r"^\d*(?:\.\d*)?$")


class Unparseable(ValueError):
    """The text is not an answer the parser understands (the message says where and why)."""


class _Converter(_Latex2Sympy):
    def parse_number(self, text):
        return number(text.replace(",", ""))

    def parse(self, latex_str):
        parser = self.create_parser(latex_str)
        math_ = parser.math()
        if math_.set_relation():
            return self.convert_set_relation(math_.set_relation())
        if math_.set_elements():
            return self.convert_set_elements(math_.set_elements())
        if math_.set_elements_relation():
            return self.convert_set_elements_relation(math_.set_elements_relation())
        raise Unparseable("nothing matched")


_CONFIG = ConversionConfig(interpret_as_mixed_fractions=True, interpret_simple_eq_as_assignment=False,
                           interpret_contains_as_eq=True, lowercase_symbols=True)


def number(text: str) -> sp.Expr:
    """A decimal literal as an exact Rational (0.5 is 1/2), built from its digits."""
    if not _NUMBER.match(text) or text in ("", "."):
        raise Unparseable(f"not a number: {text[:20]!r}")
    whole, _, frac = text.partition(".")
    digits = (whole + frac).lstrip("0")
    if len(digits) > MAX_DIGITS:
        raise Unparseable(f"number too long ({len(digits)} digits)")
    return sp.Rational(int(whole + frac or "0"), 10 ** len(frac))


def to_sympy(text: str, grammar: bool = True) -> sp.Basic | None:
    """Parse one expression (no top-level commas or relations: `parse` splits those first).
    Arithmetic on numbers, letters, `\\pi`, `\\frac`, `\\sqrt` and powers is read by `_Arithmetic`
    (the grammar's Python runtime takes milliseconds per expression); the rest by the grammar,
    or, with `grammar=False`, not at all (None)."""
    if len(text) > MAX_CHARS:
        raise Unparseable(f"longer than {MAX_CHARS} characters")
    try:
        value = _Arithmetic(text).read()
    except _Fallback:
        if not grammar:
            return None
        value = _grammar(text)
    _check_size(value)
    return value


def _grammar(text: str) -> sp.Basic:
    try:
        value = _Converter(config=_CONFIG).parse(text)
    except (RecursionError, MemoryError):
        raise
    except Unparseable:
        raise
    except Exception as exc:  # the grammar's syntax errors are plain Exceptions
        raise Unparseable(str(exc).split("\n", 1)[0][:120] or type(exc).__name__) from None
    return value


class _Fallback(Exception):
    """Outside `_Arithmetic`'s subset: the grammar reads it."""


_ARITH_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?|\\[a-zA-Z]+|[a-zA-Z]|[-+*/^(){}\[\]!|_])")
_GREEK = {"alpha", "beta", "gamma", "delta", "theta", "lambda", "mu", "phi", "omega", "sigma", "tau", "rho"}
_FUNCTIONS = {"sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "sec": sp.sec, "csc": sp.csc, "cot": sp.cot,
              "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh,
              "tanh": sp.tanh, "ln": sp.log, "log": None, "exp": sp.exp}
_INVERSES = {"sin": sp.asin, "cos": sp.acos, "tan": sp.atan}
_ATOM_START = {"(", "{", "\\frac", "\\sqrt", "\\pi", "\\binom", "\\lfloor", "\\lceil"} | {
    "\\" + name for name in _FUNCTIONS}


class _Arithmetic:
    """A small precedence parser for plain arithmetic, reading what the grammar would read
    (letters lowercased, `e` Euler's number), with sympy constructors only. Anything else
    (functions, subscripts, `I`, mixed numbers, …) raises _Fallback."""

    def __init__(self, text: str):
        self.toks = []
        pos = 0
        for m in _ARITH_TOKEN.finditer(text):
            if m.start() != pos:
                raise _Fallback
            self.toks.append(m.group(1))
            pos = m.end()
        if pos != len(text.rstrip()) or not self.toks:
            raise _Fallback
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self):
        tok = self.peek()
        if tok is None:
            raise _Fallback
        self.i += 1
        return tok

    def expect(self, tok):
        if self.take() != tok:
            raise _Fallback

    def read(self):
        value = self.expr()
        if self.i != len(self.toks):
            raise _Fallback
        return value

    def expr(self):
        self.depth += 1
        if self.depth > 50:
            raise _Fallback
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.term()
            value = sp.Add(value, right if op == "+" else sp.Mul(sp.Integer(-1), right))
        self.depth -= 1
        return value

    def term(self):
        value = self.unary()
        while True:
            tok = self.peek()
            if tok in ("*", "\\cdot", "\\times"):
                self.take()
                value = sp.Mul(value, self.unary())
            elif tok in ("/", "\\div"):
                self.take()
                value = sp.Mul(value, sp.Pow(self.unary(), sp.Integer(-1), evaluate=False))
            elif tok is not None and (tok in _ATOM_START or tok[0].isalnum() or tok[1:] in _GREEK):
                if tok == "\\frac" and isinstance(value, sp.Integer):
                    raise _Fallback  # a mixed number: the grammar's rule
                if tok[0].isdigit() and not isinstance(value, sp.Symbol):
                    raise _Fallback
                value = sp.Mul(value, self.power())
            else:
                return value

    def unary(self):
        if self.peek() == "-":
            self.take()
            return sp.Mul(sp.Integer(-1), self.unary())
        if self.peek() == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self):
        base = self.atom()
        while self.peek() == "!":
            self.take()
            base = sp.factorial(base, evaluate=False)
        if self.peek() == "^":
            self.take()
            if self.peek() == "{":
                exp = self.group()
            elif self.peek() == "-":
                raise _Fallback
            else:
                tok = self.peek()
                if tok[0].isdigit() and len(tok) > 1:
                    raise _Fallback  # x^23 is x^2 3 in LaTeX
                exp = self.atom()
            base = sp.Pow(base, exp, evaluate=False)  # sizes are checked before anything evaluates
        return base

    def group(self):
        self.expect("{")
        value = self.expr()
        self.expect("}")
        return value

    def atom(self):
        tok = self.take()
        if tok[0].isdigit():
            return number(tok)
        if tok == "(":
            value = self.expr()
            self.expect(")")
            return value
        if tok == "{":
            self.i -= 1
            return self.group()
        if tok == "\\pi":
            return sp.pi
        if tok == "\\frac":
            num = self.group()
            return sp.Mul(num, sp.Pow(self.group(), sp.Integer(-1), evaluate=False))
        if tok == "\\sqrt":
            if self.peek() == "[":
                self.take()
                index = self.expr()
                self.expect("]")
                return sp.root(self.group(), index)
            return sp.sqrt(self.group())
        if tok[1:] in _GREEK:
            return sp.Symbol(tok[1:])
        if tok[1:] in _FUNCTIONS:
            return self.function(tok[1:])
        if tok == "|":
            value = self.expr()
            self.expect("|")
            return sp.Abs(value)
        if tok in ("\\lfloor", "\\lceil"):
            value = self.expr()
            self.expect("\\rfloor" if tok == "\\lfloor" else "\\rceil")
            return sp.floor(value) if tok == "\\lfloor" else sp.ceiling(value)
        if tok == "\\binom":
            n = self.group()
            return sp.binomial(n, self.group(), evaluate=False)
        if tok.isalpha() and len(tok) == 1:
            if tok == "e":
                return sp.E
            if tok == "I":
                return sp.I
            if tok == "E":
                raise _Fallback
            return sp.Symbol(tok.lower())
        raise _Fallback

    def function(self, name: str):
        """`\\sin(x)`, `\\ln{x}`, `\\log_{2}8`, `\\cos^2(x)`, `\\sin^{-1}(x)`, `\\sin\\frac{\\pi}{6}`; a bare
        argument followed by more (`\\sin 2x`) is the grammar's to read."""
        base = None
        if self.peek() == "_":
            if name != "log":
                raise _Fallback
            self.take()
            base = self.group() if self.peek() == "{" else self.atom()
        power = None
        if self.peek() == "^":
            self.take()
            power = self.group() if self.peek() == "{" else self.atom()
        if self.peek() == "(":
            self.take()
            arg = self.expr()
            self.expect(")")
        elif self.peek() == "{":
            arg = self.group()
        else:
            arg = self.atom()
            nxt = self.peek()
            if nxt is not None and (nxt in _ATOM_START or nxt[0].isalnum() or nxt in ("^", "!")):
                raise _Fallback
        if power is not None and power == -1 and name in _INVERSES:
            return _INVERSES[name](arg)
        if name == "log":
            value = sp.log(arg, base if base is not None else sp.Integer(10))
        else:
            value = _FUNCTIONS[name](arg)
        return sp.Pow(value, power, evaluate=False) if power is not None else value


def _check_size(value) -> None:
    """Refuse powers, factorials and binomials whose exact value would take for ever to compute."""
    if not isinstance(value, sp.Basic):
        return
    for node in sp.preorder_traversal(value):
        if isinstance(node, sp.Pow) and node.exp.is_number:
            exp = _bound(node.exp)
            if exp is None:
                continue
            if exp > 10**6 and node.base.is_number and node.base not in (0, 1, -1):
                raise Unparseable("power too large to compute")
            base = _bound(node.base)
            if base is not None and base > 1 and exp * math.log2(base) > MAX_BITS:
                raise Unparseable("power too large to compute")
        elif isinstance(node, sp.factorial):
            n = _bound(node.args[0])
            if n is not None and n > MAX_FACTORIAL:
                raise Unparseable(f"factorial of a number above {MAX_FACTORIAL}")
        elif isinstance(node, sp.binomial):
            n = _bound(node.args[0])
            if n is not None and n > 10 * MAX_FACTORIAL:
                raise Unparseable("binomial coefficient too large to compute")


def _bound(e) -> float | None:
    """An upper bound of |e| for numbers built of rationals and powers (inf when huge), without
    computing them; None when `e` is something else."""
    if e.is_Rational:
        p, q = abs(int(e.p)), int(e.q)
        if p.bit_length() > 1000:
            return math.inf
        return p / q
    if isinstance(e, sp.Pow):
        base, exp = _bound(e.base), _bound(e.exp)
        if base is None or exp is None:
            return None
        if base <= 1:
            return 1.0
        if exp == math.inf or exp * math.log2(base) > 1000:
            return math.inf
        return base ** exp
    if isinstance(e, (sp.Add, sp.Mul)):
        parts = [_bound(a) for a in e.args]
        if any(p is None for p in parts):
            return None
        total = 0.0 if isinstance(e, sp.Add) else 1.0
        for p in parts:
            total = total + p if isinstance(e, sp.Add) else total * p
        return total
    if isinstance(e, sp.factorial):
        n = _bound(e.args[0])
        return None if n is None else (math.inf if n > 170 else float(math.factorial(int(n))))
    return None
