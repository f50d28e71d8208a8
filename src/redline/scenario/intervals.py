"""Interval analysis of scenario expressions: the range an expression can take, given the ranges
of the names it reads.

Each name gets an interval (a state variable its bounds, an uncertainty or lever its declared
range, a boolean or an event flag [0, 1], ``week`` [0, ∞)), and the expression's syntax tree is
evaluated with interval arithmetic (Moore, Kearfott & Cloud 2009, *Introduction to Interval
Analysis*, SIAM, doi:10.1137/1.9780898717716): every operator maps the intervals of its
arguments to an interval that contains every value it can produce. The result is sound (the
true range lies inside it) but may be wider than the true range, because a name read twice is
treated as two independent values. A probability whose interval lies wholly outside [0, 1] is
certainly wrong; one whose interval only overlaps it *can* be clipped.

The walk reads the same syntax the expression language accepts (:mod:`redline.expr`); it is only
called on expressions that have already been parsed and checked, so it never raises on syntax.
"""
from __future__ import annotations

import ast
import math
from collections.abc import Mapping

from redline import expr as ex

__all__ = ["Interval", "interval_of", "EVERYTHING", "UNIT"]

INF = math.inf


class Interval(tuple):
    """A closed interval ``(lo, hi)`` of floats, possibly unbounded (±inf)."""

    __slots__ = ()

    def __new__(cls, lo: float, hi: float):
        if math.isnan(lo) or math.isnan(hi):
            lo, hi = -INF, INF
        return super().__new__(cls, (float(min(lo, hi)), float(max(lo, hi))))

    @property
    def lo(self) -> float:
        return self[0]

    @property
    def hi(self) -> float:
        return self[1]

    def hull(self, other: Interval) -> Interval:
        return Interval(min(self.lo, other.lo), max(self.hi, other.hi))

    def point(self) -> float | None:
        return self.lo if self.lo == self.hi else None

    def __str__(self) -> str:
        return f"[{_num(self.lo)}, {_num(self.hi)}]"


def _num(x: float) -> str:
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:.4g}"


EVERYTHING = Interval(-INF, INF)
UNIT = Interval(0.0, 1.0)
_TRUE, _FALSE = Interval(1.0, 1.0), Interval(0.0, 0.0)


def interval_of(text: str | int | float | bool, ranges: Mapping[str, Interval]) -> Interval:
    """The interval of ``text`` when each name ``n`` ranges over ``ranges[n]`` (a name missing
    from ``ranges`` may take any value; ``week`` ranges over [0, ∞) unless given)."""
    if isinstance(text, bool):
        return _TRUE if text else _FALSE
    if isinstance(text, (int, float)):
        return Interval(float(text), float(text))
    source = ex._IF_CALL.sub("IF", text)
    tree = ast.parse(source.strip(), mode="eval")
    return _Walker(ranges).walk(tree.body)


def _mul(a: Interval, b: Interval) -> Interval:
    products = []
    for x in (a.lo, a.hi):
        for y in (b.lo, b.hi):
            # 0 × ∞ is 0 here: a factor that is exactly zero zeroes the product
            products.append(0.0 if x == 0 or y == 0 else x * y)
    return Interval(min(products), max(products))


def _div(a: Interval, b: Interval) -> Interval:
    if b.lo > 0 or b.hi < 0:  # 1/b is finite and monotone over b; 1/±∞ = 0
        return _mul(a, Interval(1.0 / b.hi, 1.0 / b.lo))
    if a.lo == a.hi == 0:
        return _FALSE
    return EVERYTHING


def _pow(a: Interval, b: Interval) -> Interval:
    k = b.point()
    if k is not None and float(k).is_integer():
        n = int(k)
        if n == 0:
            return _TRUE
        if n > 0:
            ends = [a.lo ** n, a.hi ** n] if all(math.isfinite(x) for x in a) else None
            if ends is None:
                return Interval(0.0, INF) if n % 2 == 0 else EVERYTHING
            lo, hi = min(ends), max(ends)
            if n % 2 == 0 and a.lo <= 0 <= a.hi:
                lo = 0.0
            return Interval(lo, hi)
    if a.lo >= 0 and all(math.isfinite(x) for x in (*a, *b)):
        try:
            ends = [x ** y for x in (a.lo, a.hi) for y in (b.lo, b.hi) if not (x == 0 and y < 0)]
        except OverflowError:
            return Interval(0.0, INF)
        if ends and len(ends) == 4:
            return Interval(min(ends), max(ends))
    return EVERYTHING


def _compare(op: ast.cmpop, a: Interval, b: Interval) -> Interval:
    """[1, 1] when the comparison holds for every pair, [0, 0] when for none, else [0, 1]."""
    if isinstance(op, ast.Lt):
        sure, never = a.hi < b.lo, a.lo >= b.hi
    elif isinstance(op, ast.LtE):
        sure, never = a.hi <= b.lo, a.lo > b.hi
    elif isinstance(op, ast.Gt):
        sure, never = a.lo > b.hi, a.hi <= b.lo
    elif isinstance(op, ast.GtE):
        sure, never = a.lo >= b.hi, a.hi < b.lo
    elif isinstance(op, ast.Eq):
        sure, never = a.point() is not None and a.point() == b.point(), a.hi < b.lo or a.lo > b.hi
    else:  # NotEq
        sure, never = a.hi < b.lo or a.lo > b.hi, a.point() is not None and a.point() == b.point()
    return _TRUE if sure else _FALSE if never else UNIT


def _truth(a: Interval) -> bool | None:
    """True when every value is non-zero, False when the only value is zero, else None."""
    if a.lo > 0 or a.hi < 0:
        return True
    if a.lo == a.hi == 0:
        return False
    return None


def _monotone(fn, a: Interval, lo_limit: float = -INF) -> Interval:
    def safe(x: float) -> float:
        try:
            return fn(x)
        except OverflowError:
            return INF
        except ValueError:
            return -INF if x <= max(lo_limit, 0) else INF
    return Interval(safe(a.lo), safe(a.hi))


class _Walker:
    def __init__(self, ranges: Mapping[str, Interval]):
        self.ranges = ranges

    def walk(self, node: ast.AST) -> Interval:
        method = getattr(self, "_" + type(node).__name__, None)
        return EVERYTHING if method is None else method(node)

    def _Constant(self, node: ast.Constant) -> Interval:
        value = float(node.value) if isinstance(node.value, (int, float)) else math.nan
        return Interval(value, value)

    def _Name(self, node: ast.Name) -> Interval:
        if node.id in ("true", "True"):
            return _TRUE
        if node.id in ("false", "False"):
            return _FALSE
        if node.id == "week":
            return self.ranges.get("week", Interval(0.0, INF))
        return self.ranges.get(node.id, EVERYTHING)

    def _UnaryOp(self, node: ast.UnaryOp) -> Interval:
        a = self.walk(node.operand)
        if isinstance(node.op, ast.USub):
            return Interval(-a.hi, -a.lo)
        if isinstance(node.op, ast.Not):
            t = _truth(a)
            return UNIT if t is None else (_FALSE if t else _TRUE)
        return a

    def _BinOp(self, node: ast.BinOp) -> Interval:
        a, b = self.walk(node.left), self.walk(node.right)
        if isinstance(node.op, ast.Add):
            return Interval(a.lo + b.lo if not (a.lo == -INF and b.lo == INF) else -INF,
                            a.hi + b.hi if not (a.hi == INF and b.hi == -INF) else INF)
        if isinstance(node.op, ast.Sub):
            return Interval(a.lo - b.hi if not (a.lo == -INF and b.hi == -INF) else -INF,
                            a.hi - b.lo if not (a.hi == INF and b.lo == INF) else INF)
        if isinstance(node.op, ast.Mult):
            return _mul(a, b)
        if isinstance(node.op, ast.Div):
            return _div(a, b)
        if isinstance(node.op, ast.Pow):
            return _pow(a, b)
        if isinstance(node.op, ast.Mod):
            if b.lo > 0:
                return Interval(0.0, b.hi)
            if b.hi < 0:
                return Interval(b.lo, 0.0)
        return EVERYTHING

    def _BoolOp(self, node: ast.BoolOp) -> Interval:
        truths = [_truth(self.walk(v)) for v in node.values]
        if isinstance(node.op, ast.And):
            if all(t is True for t in truths):
                return _TRUE
            if any(t is False for t in truths):
                return _FALSE
        else:
            if any(t is True for t in truths):
                return _TRUE
            if all(t is False for t in truths):
                return _FALSE
        return UNIT

    def _Compare(self, node: ast.Compare) -> Interval:
        left = self.walk(node.left)
        result = _TRUE
        for op, comp in zip(node.ops, node.comparators):
            right = self.walk(comp)
            part = _compare(op, left, right)
            if part == _FALSE:
                return _FALSE
            if part != _TRUE:
                result = UNIT
            left = right
        return result

    def _Call(self, node: ast.Call) -> Interval:
        name = "if" if node.func.id == "IF" else node.func.id
        args = [self.walk(a) for a in node.args]
        if name == "if":
            cond, a, b = args
            t = _truth(cond)
            return a if t is True else b if t is False else a.hull(b)
        if name == "min":
            return Interval(min(x.lo for x in args), min(x.hi for x in args))
        if name == "max":
            return Interval(max(x.lo for x in args), max(x.hi for x in args))
        if name == "clip":
            x, lo, hi = args
            return Interval(min(max(x.lo, lo.lo), hi.hi), min(max(x.hi, lo.hi), hi.hi))
        if name == "abs":
            (x,) = args
            if x.lo >= 0:
                return x
            if x.hi <= 0:
                return Interval(-x.hi, -x.lo)
            return Interval(0.0, max(-x.lo, x.hi))
        if name == "exp":
            return _monotone(lambda v: math.exp(v) if v != -INF else 0.0, args[0])
        if name == "log":
            (x,) = args
            if x.hi <= 0:
                return EVERYTHING  # NaN or -∞: the engine reports non-finite values itself
            return Interval(-INF if x.lo <= 0 else math.log(x.lo), math.log(x.hi) if x.hi < INF else INF)
        if name == "sqrt":
            (x,) = args
            return Interval(math.sqrt(max(x.lo, 0.0)), math.sqrt(x.hi) if x.hi < INF else INF)
        if name in ("floor", "round"):
            (x,) = args
            f = math.floor if name == "floor" else round
            return Interval(f(x.lo) if math.isfinite(x.lo) else x.lo, f(x.hi) if math.isfinite(x.hi) else x.hi)
        if name == "bernoulli":
            return UNIT
        if name == "poisson":
            return Interval(0.0, INF if args[0].hi > 0 else 0.0)
        if name == "normal":
            mean, sd = args
            return mean if sd.lo == sd.hi == 0 else EVERYTHING
        if name == "uniform":
            a, b = args
            return a.hull(b)
        if name == "ever":
            return UNIT
        if name in ex.WINDOW_FUNCTIONS:
            last = next((k.value for k in node.keywords if k.arg == "last"), None)
            n = float(last.value) if isinstance(last, ast.Constant) else INF
            if name == "count":
                return Interval(0.0, n)
            if name == "weeks_since":
                return Interval(0.0, INF)
            x = args[0] if args else EVERYTHING
            if name == "mean":
                return x
            return Interval(min(x.lo, _mul(x, Interval(n, n)).lo), max(x.hi, _mul(x, Interval(n, n)).hi))
        return EVERYTHING  # a registered domain function: no declared range
