"""The safe expression language of scenario files.

An expression such as ``sum(us_killed_attributed, last=8) >= 3 and bernoulli(0.2)`` is parsed
with Python's :mod:`ast` in ``eval`` mode and walked against an allow-list: numbers, names of
known variables, arithmetic, comparisons, ``and``/``or``/``not``, and calls of the functions in
:data:`FUNCTIONS`. Nothing is ever passed to ``eval``/``exec``; attribute access, subscripts,
lambdas, comprehensions, strings and dunder names are refused with a located error.

A parsed expression is compiled once into a tree of numpy closures that evaluate over the run
dimension (:meth:`Expression.evaluate`). The same tree can be interpreted one run at a time with
plain Python floats (:meth:`Expression.evaluate_scalar`); the reference interpreter and the
property tests use that path.

Window functions (``sum``, ``mean``, ``count`` with ``last=n``; ``ever``; ``weeks_since``) keep
one accumulator per call site, advanced once per simulated week by the caller, so an expression
must be evaluated exactly once per week with ``commit=True``. Random draws (``bernoulli``,
``poisson``, ``normal``, ``uniform``) take their numbers from a generator per call site, which
gives common random numbers across strategies (the same site draws the same numbers).
"""
from __future__ import annotations

import ast
import functools
import math
import re
import warnings
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from redline.errors import ExpressionError, Location, did_you_mean
from redline.spread import spread

__all__ = [
    "Expression",
    "EvalContext",
    "ScalarContext",
    "FUNCTIONS",
    "WINDOW_FUNCTIONS",
    "RANDOM_FUNCTIONS",
    "MAX_LENGTH",
    "MAX_DEPTH",
    "MAX_WINDOW",
    "parse",
    "register_function",
    "extension_names",
    "RingBuffer",
]

MAX_LENGTH = 4000
MAX_DEPTH = 40
MAX_NODES = 2000
MAX_WINDOW = 520  # ten years of weeks

WINDOW_FUNCTIONS = {"sum", "mean", "count", "ever", "weeks_since"}
RANDOM_FUNCTIONS = {"bernoulli": 1, "poisson": 1, "normal": 2, "uniform": 2}
_PLAIN_FUNCTIONS: dict[str, tuple[int, int]] = {  # name -> (min args, max args)
    "if": (3, 3),
    "min": (2, 8),
    "max": (2, 8),
    "clip": (3, 3),
    "abs": (1, 1),
    "exp": (1, 1),
    "log": (1, 1),
    "sqrt": (1, 1),
    "floor": (1, 1),
    "round": (1, 1),
}


@dataclass(frozen=True)
class _Extension:
    """A vectorised function registered by another module (e.g. nuclear breakout time)."""

    name: str
    nargs: tuple[int, int]
    vectorised: Callable[..., Any]
    scalar: Callable[..., float]
    doc: str
    fresh: bool = False  # ``vectorised`` always gives a new array that it holds no reference to


_EXTENSIONS: dict[str, _Extension] = {}


def register_function(name: str, vectorised: Callable, scalar: Callable, *, nargs: tuple[int, int], doc: str,
                      fresh: bool = False) -> None:
    """Allow ``name(...)`` in expressions, computed by ``vectorised`` (arrays) or ``scalar`` (floats).

    The functions must be pure: no I/O, no randomness, no global state. ``fresh`` says that
    ``vectorised`` always returns a new array that it keeps no reference to (never one of its
    arguments or a cached array): the expression may then write into it (see :func:`_owning`).
    """
    _EXTENSIONS[name] = _Extension(name, nargs, vectorised, scalar, doc, fresh)


def extension_names() -> set[str]:
    """Names of the functions registered with :func:`register_function` (not built in)."""
    return set(_EXTENSIONS)


def _function_names() -> set[str]:
    return set(_PLAIN_FUNCTIONS) | WINDOW_FUNCTIONS | set(RANDOM_FUNCTIONS) | set(_EXTENSIONS)


FUNCTIONS = _function_names  # callable so that registered extensions are listed too

_BINOPS = {
    ast.Add: (np.add, lambda a, b: a + b),
    ast.Sub: (np.subtract, lambda a, b: a - b),
    ast.Mult: (np.multiply, lambda a, b: a * b),
    ast.Div: (np.divide, lambda a, b: _scalar_div(a, b)),
    ast.Mod: (np.mod, lambda a, b: _scalar_mod(a, b)),
    ast.Pow: (np.power, lambda a, b: _scalar_pow(a, b)),
}
_COMPARE = {
    ast.Lt: (np.less, lambda a, b: a < b),
    ast.LtE: (np.less_equal, lambda a, b: a <= b),
    ast.Gt: (np.greater, lambda a, b: a > b),
    ast.GtE: (np.greater_equal, lambda a, b: a >= b),
    ast.Eq: (np.equal, lambda a, b: a == b),
    ast.NotEq: (np.not_equal, lambda a, b: a != b),
}
_UNARY_MATH = {
    "abs": (np.abs, abs),
    "exp": (np.exp, lambda x: _scalar_call(math.exp, x)),
    "log": (np.log, lambda x: _scalar_log(x)),
    "sqrt": (np.sqrt, lambda x: math.sqrt(x) if x >= 0 else math.nan),
    "floor": (np.floor, lambda x: float(np.floor(x))),  # keeps the sign of -0.0, as the vector does
    "round": (np.round, lambda x: float(np.round(x))),
}


def _scalar_div(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * (math.copysign(1.0, b))
    return a / b


def _scalar_mod(a: float, b: float) -> float:
    if b == 0:
        return math.nan
    return float(np.mod(a, b))


def _scalar_pow(a: float, b: float) -> float:
    return float(np.power(float(a), float(b)))


def _scalar_log(x: float) -> float:
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


def _scalar_call(fn: Callable[[float], float], x: float) -> float:
    try:
        return fn(x)
    except OverflowError:
        return math.inf


class EvalContext:
    """What a vectorised evaluation needs: values by name, run count, week, generators, windows.

    Parameters
    ----------
    values:
        name -> array of shape (runs,) or scalar; an array is replaced rather than changed in
        place once an evaluation has read it, unless ``held`` says otherwise.
    runs:
        number of runs in the block.
    rng_for:
        site key -> ``numpy.random.Generator`` (one stream per random call site).
    """

    __slots__ = ("values", "runs", "week", "rng_for", "windows", "commit", "expected", "held")

    def __init__(self, values: dict[str, Any], runs: int, rng_for: Callable[[str], np.random.Generator]):
        self.values = values
        self.runs = runs
        self.week = 0
        self.rng_for = rng_for
        self.windows: dict[str, Any] = {}
        self.commit = True
        self.expected = False
        # Whether the caller never changes in place an array that anything but ``values`` holds
        # (the engine asks CPython's reference count first): then a window keeps each week's
        # array as it is given, without a copy (see :class:`RingBuffer`).
        self.held = False


class ScalarContext:
    """The one-run counterpart of :class:`EvalContext`, for the reference interpreter."""

    __slots__ = ("values", "week", "rng_for", "windows", "commit", "expected")

    def __init__(self, values: dict[str, float], rng_for: Callable[[str], np.random.Generator]):
        self.values = values
        self.week = 0
        self.rng_for = rng_for
        self.windows: dict[str, Any] = {}
        self.commit = True
        self.expected = False


@dataclass
class Expression:
    """A parsed, checked and compiled expression.

    Attributes
    ----------
    text: the source text.
    names: the variable names it reads.
    random: whether it draws random numbers.
    windows: whether it keeps window state.
    window_weeks: the weeks of history its ``last=N`` windows keep, per run.
    """

    text: str
    site: str
    names: frozenset[str]
    random: bool
    windows: bool
    _vector: Callable[[EvalContext], Any] = field(repr=False)
    _scalar: Callable[[ScalarContext], float] = field(repr=False)
    constant: float | None = None
    window_weeks: int = 0  # weeks of history its last=N windows keep per run (memory budgeting)
    # The value of a constant: ``constant``, or the whole expression folded at parse time (e.g.
    # ``false``, ``swu_per_kg(4.5, 0.711, 0.3)``), which ``constant`` does not report because
    # callers read it as "a number was written here".
    _fixed: float | None = field(default=None, repr=False, compare=False)
    _constant_runs: np.ndarray | None = field(default=None, repr=False, compare=False)  # _fixed, broadcast
    _constant_truth: np.ndarray | None = field(default=None, repr=False, compare=False)  # _fixed != 0, broadcast
    # The last Python float the expression gave and its read-only array over the runs: the same
    # float object again (a parameter read from the values every week) gives the same array.
    _scalar_runs: tuple[float, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._fixed is None:
            self._fixed = self.constant

    @property
    def fixed(self) -> float | None:
        """The value when it is the same in every run and week (a number written, or the whole
        expression folded at parse time, e.g. ``false``); else None."""
        return self._fixed

    @property
    def fresh(self) -> bool:
        """Whether :meth:`evaluate` gives a new array that nobody else holds, so that the caller
        may change it in place: the expression's top node is arithmetic (its numpy call made
        the array, see :func:`_owning`). A value that is not a writable float array over the
        runs (a number broadcast, read-only) must still be checked for by the caller."""
        return self._fixed is None and getattr(self._vector, "owned", False)

    @property
    def variable(self) -> str | None:
        """The name the expression reads when it is that name alone (``war``), else None: its
        value is then the named value itself, its truth that value ``!= 0``."""
        return getattr(self._vector, "variable", None)

    @property
    def stateful(self) -> bool:
        """Whether it must be evaluated every week even where its value is not needed: it draws
        random numbers (their streams stay aligned) or keeps windows (they stay current)."""
        return self.random or self.windows

    def evaluate(self, ctx: EvalContext) -> np.ndarray:
        """Evaluate over all runs of ``ctx``; always returns a float array of shape (runs,)
        (read-only when it is a constant, a number read from the values or a broadcast scalar)."""
        if self._fixed is not None:
            cached = self._constant_runs
            if cached is None or cached.shape[0] != ctx.runs:
                cached = self._constant_runs = np.broadcast_to(self._fixed, (ctx.runs,))
            return cached
        value = self._vector(ctx)
        if type(value) is np.ndarray and value.shape == (ctx.runs,) and value.dtype == np.float64:
            return value
        if type(value) is float:  # a number read from the values (a parameter): see _scalar_runs
            cached = self._scalar_runs
            if cached is None or cached[0] is not value or cached[1].shape[0] != ctx.runs:
                cached = self._scalar_runs = (value, _read_only(np.full(ctx.runs, value)))
            return cached[1]
        if isinstance(value, (float, int, np.floating, np.integer)):  # np.full: cheaper than broadcast_to
            return np.full(ctx.runs, float(value))
        return np.broadcast_to(np.asarray(value, dtype=float), (ctx.runs,))

    def evaluate_truth(self, ctx: EvalContext) -> np.ndarray:
        """``evaluate(ctx) != 0`` as a bool array of shape (runs,) (read-only when broadcast):
        a comparison, ``and``/``or`` or ``not`` at the top gives its truth values directly,
        without the round trip through 0.0/1.0 (the same values, NaN counting as true)."""
        if self._fixed is not None:
            cached = self._constant_truth
            if cached is None or cached.shape[0] != ctx.runs:
                cached = self._constant_truth = np.broadcast_to(self._fixed != 0, (ctx.runs,))
            return cached
        truth = getattr(self._vector, "truth", None)
        if truth is None:
            return self.evaluate(ctx) != 0
        value = truth(ctx)
        if type(value) is np.ndarray and value.shape == (ctx.runs,):
            return value
        return np.broadcast_to(np.asarray(value, dtype=bool), (ctx.runs,))

    def evaluate_scalar(self, ctx: ScalarContext) -> float:
        """Evaluate for one run with Python floats."""
        return float(self._scalar(ctx))

    def skip_draws(self, ctx: EvalContext) -> bool:
        """Move every random call site's stream on exactly as :meth:`evaluate` would for no run
        (``ctx.runs == 0``), without computing the expression; return False, having drawn
        nothing, where that takes the evaluation itself (windows, or a ``poisson`` rate that
        draws). Each site takes the draws of an evaluation for no run from ``ctx.rng_for``
        (``random(0)``, ``standard_normal(0)``): the engine's counter-based streams move their
        call counter on by it (see :class:`redline.escalation.common.block_streams`). A rate is read only for
        ``poisson``: a single number that is NaN, infinite or above :data:`POISSON_NORMAL_ABOVE`
        also draws normals (see :func:`_poisson_vector`); a rate read from a per-run array is
        empty for no run and draws none."""
        if ctx.runs != 0:
            raise ValueError("skip_draws stands for an evaluation for no run (ctx.runs == 0)")
        plan = self.__dict__.get("_skips")
        if plan is None:  # built once (see _random_sites)
            plan = self._skips = False if self.windows else _random_sites(self)
        if plan is False:
            return False
        if ctx.expected:
            return True  # expected values draw nothing
        for key, uniforms, normals, rate in plan:
            rng = ctx.rng_for(key)
            if uniforms:
                rng.random(0)
            if rate is not None:  # max(rate, 0) <= POISSON_NORMAL_ABOVE just where rate <= it
                normals = not (np.asarray(rate._vector(ctx), dtype=float) <= POISSON_NORMAL_ABOVE).all()
            if normals:
                rng.standard_normal(0)
        return True


def _random_sites(e: Expression) -> list | bool:
    """For :meth:`Expression.skip_draws`: each random call site of ``e`` as (key, whether it
    draws uniforms, whether it draws normals, a ``poisson`` rate that must be read to know),
    keyed as the compiler numbers calls (depth first, left to right); False when a ``poisson``
    rate itself draws."""
    calls, pending = [], [ast.parse(_IF_CALL.sub("IF", e.text).strip(), mode="eval").body]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Call):
            calls.append(node)
        pending += reversed(list(ast.iter_child_nodes(node)))
    sites = []
    for index, call in enumerate(calls, start=1):
        name, key = call.func.id, f"{e.site}#{index}"
        if name not in RANDOM_FUNCTIONS:
            continue
        if name != "poisson":
            sites.append((key, name != "normal", name == "normal", None))
            continue
        if any(isinstance(n, ast.Call) and n.func.id in RANDOM_FUNCTIONS for n in ast.walk(call.args[0])):
            return False
        rate = parse(ast.unparse(call.args[0]), names=e.names, site=f"{key}.rate")
        if rate._fixed is None:
            sites.append((key, True, None, rate))
        else:
            sites.append((key, True, not rate._fixed <= POISSON_NORMAL_ABOVE, None))
    return sites


# --------------------------------------------------------------------------------------------
# Parsing and checking


_IF_CALL = re.compile(r"(?<![\w.])if(?=\s*\()")


def parse(
    text: str | int | float | bool,
    *,
    names: Mapping[str, Any] | set[str] | frozenset[str],
    site: str,
    location: Location | None = None,
) -> Expression:
    """Parse, check against the allow-list and compile ``text``.

    Parameters
    ----------
    text:
        the expression (numbers are accepted as constant expressions).
    names:
        the names the expression may read.
    site:
        a stable identifier of where the expression lives in its scenario (e.g.
        ``"actions.rocket.effects[0]"``); random call sites and windows are keyed by it, which
        keeps random streams the same across strategies (common random numbers).
    location:
        where the expression starts in its file, for error messages.
    """
    if isinstance(text, bool):
        text = "1" if text else "0"
    if isinstance(text, (int, float)):
        if not math.isfinite(float(text)):
            raise ExpressionError(f"number {text} is not finite", location)
        value = float(text)
        return Expression(
            text=repr(text), site=site, names=frozenset(), random=False, windows=False,
            _vector=lambda ctx, v=value: v, _scalar=lambda ctx, v=value: v, constant=value,
        )
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression, got {type(text).__name__}", location)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}", location)
    if not text.strip():
        raise ExpressionError("empty expression", location)
    _check_paren_depth(text, location)
    source = _IF_CALL.sub("IF", text)  # `if` is a Python keyword; same length keeps columns right
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"syntax error in expression: {err.msg}", _shift(location, err.offset)) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression is too deeply nested or malformed", location) from None
    compiler = _Compiler(text, frozenset(names), site, location)
    vector, scalar = compiler.compile(tree.body, depth=0)
    folded = getattr(vector, "folded", None) if _SHORTCUTS else None
    return Expression(
        text=text, site=site, names=frozenset(compiler.used), random=compiler.random, windows=compiler.windows,
        _vector=vector, _scalar=scalar, window_weeks=compiler.window_weeks,
        _fixed=None if folded is None else float(folded),
    )


def _shift(location: Location | None, offset: int | None) -> Location | None:
    if location is None or offset is None or location.column is None:
        return location
    return Location(location.file, location.line, location.column + max(offset - 1, 0))


def _check_paren_depth(text: str, location: Location | None) -> None:
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ExpressionError(f"expression nests deeper than {MAX_DEPTH} levels", _shift(location, i + 1))
        elif ch in ")]}":
            depth -= 1


def _with_truth(truth: Callable[[EvalContext], Any]) -> Callable[[EvalContext], Any]:
    """The vector closure of a node whose value is a truth value: 1.0/0.0 for arithmetic, with
    the bool values themselves kept as its ``truth`` attribute for ``if``, ``and``/``or``, ``not``
    and conditions (see :func:`_truth_of`, :meth:`Expression.evaluate_truth`). The 1.0/0.0 are
    always a new array (the bools converted), which an arithmetic parent may write into."""
    def vec(ctx):
        return np.array(truth(ctx), dtype=float)

    vec.truth = truth
    return _owning(vec)


def _truth_of(vec: Callable[[EvalContext], Any]) -> Callable[[EvalContext], Any]:
    """A closure giving ``vec(ctx) != 0`` as bools (directly when ``vec`` is a truth value)."""
    truth = getattr(vec, "truth", None)
    if truth is not None:
        return truth
    return _fold(lambda ctx: np.not_equal(vec(ctx), 0), [vec])


# --------------------------------------------------------------------------------------------
# Constant folding and the closures of the commonest node shapes. The vector closure of a
# constant carries its value as ``folded``; that of a variable, its name as ``variable``.

_SHORTCUTS = True  # False compiles every node the general way (the tests compare the two bit for bit)


def _constant(value: Any) -> Callable[[EvalContext], Any]:
    """The vector closure of a constant (a number, or a part folded at parse time)."""
    def vec(ctx):
        return value

    vec.folded = value
    return vec


def _variable(name: str) -> Callable[[EvalContext], Any]:
    def vec(ctx):
        return ctx.values[name]

    vec.variable = name
    return vec


def _fold(vec: Callable[[EvalContext], Any], parts) -> Callable[[EvalContext], Any]:
    """``vec`` computed once, now, when every one of its ``parts`` is a constant.

    Only for pure nodes (arithmetic, comparisons, logic, the plain functions and the registered
    ones, which must be pure): the same numpy call on the same numbers gives the same result
    at parse time as every week, so the result is exact, bit for bit. A part that raises or
    warns (a division by zero, an assay out of range) is left to run time, where its error or
    warning belongs. A truth value keeps its bools as ``truth``.
    """
    if not _SHORTCUTS or not all(hasattr(p, "folded") for p in parts):
        return vec
    truth = getattr(vec, "truth", None)
    try:
        with warnings.catch_warnings(), np.errstate(all="raise"):
            warnings.simplefilter("error")
            value = vec(None)  # the parts are constants: nothing is read from a context
            truth_value = None if truth is None else truth(None)
    except Exception:  # noqa: BLE001 - whatever it is, it happens at run time as before
        return vec
    if np.ndim(value) != 0 or np.asarray(value).dtype.kind not in "biuf":  # a number or a bool
        return vec
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    folded = _constant(value)
    if truth is not None:
        folded.truth = _constant(truth_value)
    return folded


def _binary(op, left, right) -> Callable[[EvalContext], Any]:
    """The vector closure of ``op(left, right)`` (a numpy ufunc of two operands), folded when
    both are constants, and reading a constant or a variable operand directly rather than
    through its closure (the commonest shapes: ``x * 0.5``, ``x > y``). An operand that is the
    new array of an arithmetic node below (see :func:`_owned`) takes the result in place."""
    if not _SHORTCUTS:
        return lambda ctx: op(left(ctx), right(ctx))
    a, b = getattr(left, "folded", _VARIES), getattr(right, "folded", _VARIES)
    name_a, name_b = getattr(left, "variable", None), getattr(right, "variable", None)
    if a is not _VARIES and b is not _VARIES:
        return _fold(lambda ctx: op(a, b), [left, right])
    arithmetic = op in _ARITHMETIC  # a float result: it may go into an operand's array
    if op in _MIN_MAX and (a is _VARIES) != (b is _VARIES):  # max(x, 0.0), min(1, y) ...
        a, b, op = _float_number(a), _float_number(b), _MIN_MAX[op]
    left_owned = arithmetic and getattr(left, "owned", False)
    right_owned = arithmetic and getattr(right, "owned", False)
    if name_a is not None and b is not _VARIES:
        vec = lambda ctx: op(ctx.values[name_a], b)  # noqa: E731
    elif a is not _VARIES and name_b is not None:
        vec = lambda ctx: op(a, ctx.values[name_b])  # noqa: E731
    elif name_a is not None and name_b is not None:
        vec = lambda ctx: op(ctx.values[name_a], ctx.values[name_b])  # noqa: E731
    elif b is not _VARIES:
        vec = _into_left(op, left, b) if left_owned else (lambda ctx: op(left(ctx), b))
    elif a is not _VARIES:
        vec = _into_right(op, a, right) if right_owned else (lambda ctx: op(a, right(ctx)))
    elif left_owned or right_owned:
        vec = _into_either(op, left, right, left_owned, right_owned)
    else:
        vec = lambda ctx: op(left(ctx), right(ctx))  # noqa: E731
    if arithmetic:
        vec.owned = True
    return vec


_ARITHMETIC = frozenset({np.add, np.subtract, np.multiply, np.divide, np.mod, np.power, np.minimum, np.maximum})
"""The ufuncs whose node gives a new float array (or a number) that only its parent reads."""


def _owning(vec: Callable[[EvalContext], Any]) -> Callable[[EvalContext], Any]:
    """``vec``, marked as giving a new array each time that only its parent reads (its numpy
    call made it: negation, ``if``, ``min``/``max`` of 3+, the unary functions), so that an
    arithmetic parent may write its result into it (see :func:`_owned`)."""
    if _SHORTCUTS:
        vec.owned = True
    return vec


def _owned(value, runs: int) -> bool:
    """Whether ``value``, given by a node marked ``owned`` (an arithmetic node: its ufunc made it,
    and only the parent node reads it), can take the parent's result in place: a float array
    over the runs (not a number, nor a 0-d array of numbers). Writing the result into it gives
    the same values as a new array, one allocation fewer."""
    return type(value) is np.ndarray and value.shape == (runs,) and value.dtype == np.float64


def _into_left(op, left, b):
    def vec(ctx):
        x = left(ctx)
        return op(x, b, out=x) if _owned(x, ctx.runs) else op(x, b)

    return vec


def _into_right(op, a, right):
    def vec(ctx):
        y = right(ctx)
        return op(a, y, out=y) if _owned(y, ctx.runs) else op(a, y)

    return vec


def _into_either(op, left, right, left_owned: bool, right_owned: bool):
    def vec(ctx):
        x = left(ctx)  # left first: the order of random draws and windows is the written one
        y = right(ctx)
        runs = ctx.runs
        if left_owned and _owned(x, runs) and getattr(y, "shape", ()) in ((), x.shape):
            return op(x, y, out=x)
        if right_owned and _owned(y, runs) and getattr(x, "shape", ()) in ((), y.shape):
            return op(x, y, out=y)
        return op(x, y)

    return vec


_VARIES = object()  # the ``folded`` of a closure that is not a constant


def _spreading(op):
    """numpy's ``minimum`` or ``maximum`` with a float number operand given as an array of the
    other operand's length (:func:`redline.spread.spread`): the same bits, numpy's SIMD loop."""
    def call(x, y, out=None):
        return op(spread(x, y), spread(y, x), out=out)

    return call


_MIN_MAX = {np.minimum: _spreading(np.minimum), np.maximum: _spreading(np.maximum)}


def _float_number(value):
    """A constant operand that is a 0-d float64 array as a numpy float (the same number and
    type for numpy), so that :func:`redline.spread.spread` takes it; anything else unchanged."""
    if type(value) is np.ndarray and value.ndim == 0 and value.dtype == np.float64:
        return value[()]
    return value


class _Compiler:
    """Walks an AST against the allow-list and builds (vector, scalar) closures."""

    def __init__(self, text: str, names: frozenset[str], site: str, location: Location | None):
        self.text = text
        self.names = names
        self.site = site
        self.location = location
        self.used: set[str] = set()
        self.random = False
        self.windows = False
        self.window_weeks = 0
        self.nodes = 0
        self.calls = 0

    def error(self, message: str, node: ast.AST | None = None) -> ExpressionError:
        loc = self.location
        if node is not None and getattr(node, "col_offset", None) is not None:
            loc = _shift(loc, node.col_offset + 1 + (len(self.text) - len(self.text.lstrip())))
        return ExpressionError(f"{message} in expression '{_clip(self.text)}'", loc)

    def compile(self, node: ast.AST, depth: int):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.error(f"expression has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise self.error(f"expression nests deeper than {MAX_DEPTH} levels", node)
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise self.error(f"{_describe(node)} is not allowed", node)
        return method(node, depth + 1)

    # -- leaves
    def _Constant(self, node: ast.Constant, depth: int):
        value = node.value
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, (int, float)) or isinstance(value, complex):
            raise self.error(f"constant {value!r} is not a number", node)
        value = float(value)
        if not math.isfinite(value) or abs(value) > 1e15:
            raise self.error(f"number {node.value!r} is out of range (|x| <= 1e15)", node)
        return _constant(value), (lambda ctx, v=value: v)

    def _Name(self, node: ast.Name, depth: int):
        name = node.id
        if name.startswith("__") or name.endswith("__"):
            raise self.error(f"name '{name}' is not allowed", node)
        if name == "week":
            return (lambda ctx: float(ctx.week)), (lambda ctx: float(ctx.week))
        if name in ("true", "false", "True", "False"):
            value = 1.0 if name in ("true", "True") else 0.0
            return _constant(value), (lambda ctx, v=value: v)
        if name not in self.names:
            if name in _function_names() or name == "IF":
                raise self.error(f"function '{name}' must be called", node)
            raise self.error(f"unknown name '{name}'{did_you_mean(name, self.names | {'week'})}", node)
        self.used.add(name)
        return _variable(name), (lambda ctx: ctx.values[name])

    # -- operators
    def _BinOp(self, node: ast.BinOp, depth: int):
        ops = _BINOPS.get(type(node.op))
        if ops is None:
            raise self.error(f"operator {type(node.op).__name__} is not allowed", node)
        lv, ls = self.compile(node.left, depth)
        rv, rs = self.compile(node.right, depth)
        vop, sop = ops
        return _binary(vop, lv, rv), (lambda ctx: sop(ls(ctx), rs(ctx)))

    def _UnaryOp(self, node: ast.UnaryOp, depth: int):
        v, s = self.compile(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return _fold(_owning(lambda ctx: np.negative(v(ctx))), [v]), (lambda ctx: -s(ctx))
        if isinstance(node.op, ast.UAdd):
            return v, s
        if isinstance(node.op, ast.Not):
            return _fold(_with_truth(lambda ctx: np.equal(v(ctx), 0)), [v]), (lambda ctx: float(s(ctx) == 0))
        raise self.error(f"operator {type(node.op).__name__} is not allowed", node)

    def _BoolOp(self, node: ast.BoolOp, depth: int):
        parts = [self.compile(v, depth) for v in node.values]
        vparts = [p[0] for p in parts]
        sparts = [p[1] for p in parts]
        truths = [_truth_of(f) for f in vparts]
        if isinstance(node.op, ast.And):
            def truth(ctx):
                out = truths[0](ctx)
                for f in truths[1:]:  # every part is evaluated: random sites and windows advance alike
                    out = np.logical_and(out, f(ctx))
                return out

            def sca(ctx):
                values = [f(ctx) != 0 for f in sparts]
                return float(all(values))
        else:
            def truth(ctx):
                out = truths[0](ctx)
                for f in truths[1:]:
                    out = np.logical_or(out, f(ctx))
                return out

            def sca(ctx):
                values = [f(ctx) != 0 for f in sparts]
                return float(any(values))
        return _fold(_with_truth(truth), vparts), sca

    def _Compare(self, node: ast.Compare, depth: int):
        left = self.compile(node.left, depth)
        rest = []
        for op, comp in zip(node.ops, node.comparators):
            fns = _COMPARE.get(type(op))
            if fns is None:
                raise self.error(f"comparison {type(op).__name__} is not allowed", node)
            rest.append((fns, self.compile(comp, depth)))

        def truth(ctx):
            a = left[0](ctx)
            out = None
            for (vop, _), (rv, _) in rest:
                b = rv(ctx)
                r = vop(a, b)
                out = r if out is None else np.logical_and(out, r)
                a = b
            return out

        if len(rest) == 1:  # the usual `a < b`
            ((vop, _), (rv, _)), = rest
            truth = _binary(vop, left[0], rv)

        def sca(ctx):
            a = left[1](ctx)
            result = True
            for (_, sop), (_, rs) in rest:
                b = rs(ctx)
                result = result and sop(a, b)
                a = b
            return float(result)

        return _fold(_with_truth(truth), [left[0]] + [rv for _, (rv, _) in rest]), sca

    # -- calls
    def _Call(self, node: ast.Call, depth: int):
        if not isinstance(node.func, ast.Name):
            raise self.error("only calls of built-in functions are allowed", node)
        name = "if" if node.func.id == "IF" else node.func.id
        if name.startswith("__") or name.endswith("__"):
            raise self.error(f"name '{name}' is not allowed", node)
        if name not in _function_names():
            raise self.error(f"unknown function '{name}'{did_you_mean(name, _function_names())}", node)
        self.calls += 1
        index = self.calls
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.error("argument unpacking is not allowed", node)
        if name in WINDOW_FUNCTIONS:
            return self._window(name, node, depth, index)
        if node.keywords:
            raise self.error(f"{name}() takes no keyword arguments", node)
        args = [self.compile(a, depth) for a in node.args]
        if name in RANDOM_FUNCTIONS:
            return self._random(name, node, args, index)
        if name in _EXTENSIONS:
            ext = _EXTENSIONS[name]
            self._arity(name, node, *ext.nargs)
            vfs = [a[0] for a in args]
            sfs = [a[1] for a in args]
            vec = lambda ctx: ext.vectorised(*[f(ctx) for f in vfs])  # noqa: E731
            return (_fold(_owning(vec) if ext.fresh else vec, vfs),
                    lambda ctx: ext.scalar(*[f(ctx) for f in sfs]))
        self._arity(name, node, *_PLAIN_FUNCTIONS[name])
        vfs = [a[0] for a in args]
        sfs = [a[1] for a in args]
        if name == "if":
            (cv, cs), (av, as_), (bv, bs) = args
            ct = _truth_of(cv)
            return (
                _fold(_owning(lambda ctx: np.where(ct(ctx), av(ctx), bv(ctx))), [ct, av, bv]),
                lambda ctx: _scalar_if(cs(ctx), as_(ctx), bs(ctx)),
            )
        if name in ("min", "max"):
            op, sop = (np.minimum, _smin) if name == "min" else (np.maximum, _smax)
            if len(vfs) == 2:  # op(a, b) is what _reduce computes for two values
                return _binary(op, *vfs), (lambda ctx: sop([f(ctx) for f in sfs]))
            return (_fold(_owning(lambda ctx: _reduce(op, [f(ctx) for f in vfs])), vfs),
                    lambda ctx: sop([f(ctx) for f in sfs]))
        if name == "clip":
            (xv, xs), (lv, ls), (hv, hs) = args
            return (
                _binary(np.minimum, _binary(np.maximum, xv, lv), hv),
                lambda ctx: _smin([_smax([xs(ctx), ls(ctx)]), hs(ctx)]),
            )
        vop, sop = _UNARY_MATH[name]
        (xv, xs), = args
        return _fold(_owning(lambda ctx: vop(xv(ctx))), [xv]), (lambda ctx: sop(xs(ctx)))

    def _arity(self, name: str, node: ast.Call, lo: int, hi: int) -> None:
        n = len(node.args)
        if not lo <= n <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.error(f"{name}() takes {want} arguments, got {n}", node)

    def _random(self, name: str, node: ast.Call, args, index: int):
        self._arity(name, node, RANDOM_FUNCTIONS[name], RANDOM_FUNCTIONS[name])
        self.random = True
        first = _constant_value(node.args[0])
        if name == "bernoulli" and first is not None and not 0 <= first <= 1:
            raise self.error(f"bernoulli probability {first:g} is outside [0, 1]", node)
        if name == "poisson" and first is not None and first < 0:
            raise self.error(f"poisson rate {first:g} is negative", node)
        key = f"{self.site}#{index}"
        vfs = [a[0] for a in args]
        sfs = [a[1] for a in args]
        draw = _draw_with_constants(name, vfs) if _SHORTCUTS else None

        if draw is not None:
            params = [_read_only(np.asarray(f.folded, dtype=float)) for f in vfs]

            def vec(ctx):  # every parameter a constant: read once, the draw's fixed work done once
                if ctx.expected:
                    return _expected(name, params)
                return draw(ctx.rng_for(key), ctx.runs)
        else:
            def vec(ctx):
                params = [np.asarray(f(ctx), dtype=float) for f in vfs]
                if ctx.expected:
                    return _expected(name, params)
                rng = ctx.rng_for(key)
                return _draw_vector(name, rng, params, ctx.runs)

        def sca(ctx):
            params = [float(f(ctx)) for f in sfs]
            if ctx.expected:
                return float(_expected(name, params))
            return _draw_scalar(name, ctx.rng_for(key), params)

        return vec, sca

    def _window(self, name: str, node: ast.Call, depth: int, index: int):
        self.windows = True
        key = f"{self.site}@{index}"
        if name in ("ever", "weeks_since"):
            if len(node.args) != 1 or node.keywords:
                raise self.error(f"{name}() takes one condition and no keywords", node)
            arg_v, arg_s = self.compile(node.args[0], depth)
            if name == "ever":
                return _ever(key, arg_v, arg_s)
            return _weeks_since(key, arg_v, arg_s)
        if len(node.args) != 1:
            raise self.error(f"{name}() takes one argument and last=N", node)
        kws = {k.arg: k.value for k in node.keywords}
        if set(kws) != {"last"}:
            extra = sorted(set(kws) - {"last"})
            what = f"unknown keyword '{extra[0]}'" if extra else "missing keyword last=N"
            raise self.error(f"{name}() {what} (use {name}(x, last=N))", node)
        last = kws["last"]
        if not (isinstance(last, ast.Constant) and isinstance(last.value, int) and not isinstance(last.value, bool)):
            raise self.error(f"{name}(..., last=N) needs a whole number N", node)
        n = last.value
        if not 1 <= n <= MAX_WINDOW:
            raise self.error(f"window last={n} is outside 1..{MAX_WINDOW} weeks", node)
        arg_v, arg_s = self.compile(node.args[0], depth)
        self.window_weeks += n
        return _rolling(name, key, n, arg_v, arg_s)

    # -- everything else is refused with a name for what it is
    def _Expression(self, node, depth):  # pragma: no cover - parse() unwraps it
        return self.compile(node.body, depth)


def _constant_value(node: ast.AST) -> float | None:
    """The value of a literal number, possibly signed; None for anything else."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return sign * float(node.value)
    return None


def _describe(node: ast.AST) -> str:
    kinds = {
        "Attribute": "attribute access ('.')",
        "Subscript": "subscripting ('[...]')",
        "Lambda": "lambda",
        "ListComp": "a list comprehension",
        "SetComp": "a set comprehension",
        "DictComp": "a dict comprehension",
        "GeneratorExp": "a generator expression",
        "List": "a list",
        "Tuple": "a tuple",
        "Dict": "a dict",
        "Set": "a set",
        "IfExp": "Python's 'a if c else b' (use if(c, a, b))",
        "NamedExpr": "assignment (':=')",
        "JoinedStr": "an f-string",
        "Await": "await",
        "Yield": "yield",
        "Starred": "unpacking",
        "Slice": "a slice",
    }
    return kinds.get(type(node).__name__, f"'{type(node).__name__}'")


def _clip(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _reduce(op, values):
    out = values[0]
    for v in values[1:]:
        out = op(out, v)
    return out


def _smin(values):
    return math.nan if any(math.isnan(v) for v in values) else min(values)


def _smax(values):
    return math.nan if any(math.isnan(v) for v in values) else max(values)


def _scalar_if(c, a, b):
    return a if c != 0 else b


# --------------------------------------------------------------------------------------------
# Random draws: the numbers depend only on the site's stream, never on the parameters' values
# beyond the transformation, so that changing a strategy keeps other sites' draws in step.


def _expected(name: str, params):
    if name in ("bernoulli", "poisson"):
        return np.clip(params[0], 0, None) if name == "poisson" else np.clip(params[0], 0, 1)
    if name == "normal":
        return params[0]
    return (params[0] + params[1]) / 2.0


def _draw_vector(name: str, rng: np.random.Generator, params, runs: int) -> np.ndarray:
    """``name``'s draws for ``runs`` runs from ``rng`` with parameters ``params`` (floats or
    float arrays over the runs). A normal or uniform draw scales and shifts the generator's
    array in place (a new array per call, from numpy's ``Generator`` and the engine's streams
    alike): the same operations, in the same order, as into new arrays."""
    if name == "bernoulli":
        return (rng.random(runs) < params[0]).astype(float)
    if name == "poisson":
        return _poisson_vector(rng, params[0], runs)
    if name == "normal":
        return _shift_scale(rng.standard_normal(runs), params[0], np.abs(params[1]))
    return _shift_scale(rng.random(runs), params[0], params[1] - params[0])


def _shift_scale(x: np.ndarray, loc, scale) -> np.ndarray:
    """``loc + scale * x``, into ``x`` (a new float array of the generator's) where the result
    has its shape."""
    if np.shape(loc) in ((), x.shape) and np.shape(scale) in ((), x.shape):
        np.multiply(scale, x, out=x)
        return np.add(loc, x, out=x)
    return loc + scale * x


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _draw_with_constants(name: str, vfs) -> Callable[[Any, int], np.ndarray] | None:
    """For a random call site whose parameters are all constants (``bernoulli(0.03)``,
    ``normal(0, 0.03)``, ``poisson(4)``): ``draw(rng, runs)`` giving :func:`_draw_vector`'s numbers
    with its fixed work done once, at compile time (the parameters read as arrays; the
    normal's ``|sd|``, the uniform's width; a Poisson rate's CDF table). None otherwise."""
    if not all(hasattr(f, "folded") for f in vfs):
        return None
    params = [_read_only(np.asarray(f.folded, dtype=float)) for f in vfs]
    if name == "bernoulli":
        p = params[0]
        return lambda rng, runs: (rng.random(runs) < p).astype(float)
    if name == "normal":
        loc, scale = params[0], np.abs(params[1])
        return lambda rng, runs: _shift_scale(rng.standard_normal(runs), loc, scale)
    if name == "uniform":
        low, width = params[0], params[1] - params[0]
        return lambda rng, runs: _shift_scale(rng.random(runs), low, width)
    lam = np.maximum(params[0], 0.0)  # what _poisson_vector does with it first
    if not lam <= _POISSON_INVERSE_MAX:  # numpy's sampler or the normal approximation: the general way
        return lambda rng, runs: _poisson_vector(rng, params[0], runs)
    return _poisson_table(float(lam)).draw


_POISSON_INVERSE_MAX = 30.0
POISSON_NORMAL_ABOVE = 1e6
"""Rates above this are drawn from the normal approximation N(lam, lam), rounded (relative error
of the Poisson's quantiles below 1e-3 there; numpy's own sampler refuses rates near 1e19)."""


def _poisson_vector(rng: np.random.Generator, lam, runs: int) -> np.ndarray:
    """Poisson draws for every run: a negative rate counts as 0; a NaN or infinite rate gives a
    NaN or infinite draw (the run then fails and is counted, never silently capped)."""
    lam = np.maximum(np.asarray(lam, dtype=float), 0.0)  # np.maximum keeps NaN
    if lam.ndim == 0:
        if lam <= POISSON_NORMAL_ABOVE:  # false for NaN and infinity too
            return _poisson_inverse(rng, lam, runs)
    else:  # the largest rate, NaN if any is (one pass where comparing every rate takes two)
        top = lam.max(initial=0.0)
        if top <= POISSON_NORMAL_ABOVE:
            return _poisson_inverse(rng, lam, runs, top=top)
    odd = ~np.isfinite(lam) | (lam > POISSON_NORMAL_ABOVE)
    lam_b = np.broadcast_to(lam, (runs,))
    odd_b = np.broadcast_to(odd, (runs,))
    draws = _poisson_inverse(rng, np.where(odd_b, 0.0, lam_b), runs)
    z = rng.standard_normal(runs)
    with np.errstate(invalid="ignore"):
        big = np.maximum(np.rint(lam_b + np.sqrt(lam_b) * z), 0.0)
    return np.where(odd_b, np.where(np.isfinite(lam_b), big, lam_b), draws)


@functools.lru_cache(maxsize=256)
def _poisson_cdf(lam: float) -> np.ndarray:
    """The Poisson(``lam``) CDF at 0, 1, ... up to 59 + 4 ``lam`` (read-only; cached, because a
    scenario's constant rates are looked up every week)."""
    terms = np.arange(1, 60 + int(4 * lam))
    cdf = np.cumsum(np.concatenate([[1.0], np.cumprod(lam / terms)])) * math.exp(-lam)
    cdf.setflags(write=False)
    return cdf


@functools.lru_cache(maxsize=256)
def _poisson_draws(lam: float) -> np.ndarray:
    """The draw for each result of ``searchsorted`` in :func:`_poisson_cdf` (``lam``): the index
    itself as a float, the last one past the table counted as the table's last term (read-only)."""
    size = _poisson_cdf(lam).size
    draws = np.minimum(np.arange(size + 1), size - 1).astype(float)
    draws.setflags(write=False)
    return draws


class _PoissonTable:
    """One rate's CDF table (:func:`_poisson_cdf`), the draw for each place in it
    (:func:`_poisson_draws`) and whether zero is the likelier draw (P(0) >= 1/2)."""

    __slots__ = ("cdf", "draws", "zero_at", "rare")

    def __init__(self, lam: float):
        self.cdf, self.draws = _poisson_cdf(lam), _poisson_draws(lam)
        self.zero_at = self.cdf[0]
        self.rare = not bool(self.zero_at < 0.5)

    def draw(self, rng, runs: int) -> np.ndarray:
        """The draws of one call of ``rng``: by the engine's streams' fused look-up
        (:meth:`redline.escalation.common._SiteStream.inverse_cdf`, the same numbers in one pass)
        where ``rng`` has it, else :meth:`draws_for` of its uniforms."""
        if hasattr(rng, "inverse_cdf"):
            return rng.inverse_cdf(self.cdf)
        return self.draws_for(rng.random(runs))

    def draws_for(self, u: np.ndarray) -> np.ndarray:
        """The draw of each uniform in ``u``: its place in the CDF (a new float array)."""
        if not self.rare:
            return self.draws.take(np.searchsorted(self.cdf, u, side="left"))
        # A rare event (P(0) >= 1/2): most uniforms lie at or below P(0) and draw 0; look up only
        # the others (the same numbers, a fraction of the binary searches).
        k = np.zeros(u.size)
        above = (u > self.zero_at).nonzero()[0]
        k[above] = self.draws.take(np.searchsorted(self.cdf, u[above], side="left"))
        return k


@functools.lru_cache(maxsize=256)
def _poisson_table(lam: float) -> _PoissonTable:
    """:class:`_PoissonTable` of ``lam``, built once per rate."""
    return _PoissonTable(lam)


def _poisson_inverse(rng: np.random.Generator, lam, runs: int, *, top: float | None = None) -> np.ndarray:
    """Poisson draws by inversion of the CDF from one uniform per run.

    Inversion makes the draw a monotone function of its uniform, so two strategies that give a
    site different rates still share its randomness (common random numbers; Glasserman & Yao
    1992, Management Science 38(6), doi:10.1287/mnsc.38.6.884). Rates above
    ``_POISSON_INVERSE_MAX`` fall back to numpy's sampler. ``top`` is ``lam.max(initial=0.0)``
    when the caller has it (rates over the runs, none NaN).
    """
    lam = np.asarray(lam, dtype=float)
    if lam.ndim == 0 and lam <= _POISSON_INVERSE_MAX:
        # One rate for every run: look every uniform up in the rate's tabulated CDF.
        return _poisson_table(float(lam)).draw(rng, runs)
    u = rng.random(runs)
    if lam.shape != (runs,):
        lam, top = np.broadcast_to(lam, (runs,)), None
    if top is None:
        top = lam.max(initial=0.0)
    if top > _POISSON_INVERSE_MAX:
        return rng.poisson(lam).astype(float)
    p = np.negative(lam)
    np.exp(p, out=p)
    k = np.zeros(runs)
    # Walk up the CDF only for the runs whose uniform lies above P(0); most stop at 1. A run's
    # draw is 1 + the number of steps j = 1, 2, ... (at most 199) whose CDF its uniform still
    # exceeds: the CDF only grows (or turns NaN, and stays below no uniform), so these are the
    # first steps. Every walking run takes every step until none is above (the same operations
    # on each run as walking it alone): fewer numpy calls than cutting the walkers at each step.
    walking = (u > p).nonzero()[0]
    p, lam_a, u_a = p[walking], lam[walking], u[walking]
    # The steps are counted in bytes (at most 199), adding each step's bools as bytes; every
    # step's arrays are written in place (the same operations as into new arrays).
    cdf = p.copy()
    steps = np.zeros(walking.size, dtype=np.uint8)
    still = np.empty(walking.size, dtype=bool)
    still_bytes = still.view(np.uint8)
    above = walking.size > 0
    j = 0
    while above and j < 199:
        j += 1
        np.multiply(p, lam_a, out=p)
        np.divide(p, j, out=p)
        cdf += p
        np.greater(u_a, cdf, out=still)
        steps += still_bytes
        above = still.any()
    k[walking] = steps + 1.0
    return k


def _draw_scalar(name: str, rng: np.random.Generator, params) -> float:
    if name == "bernoulli":
        return float(rng.random() < params[0])
    if name == "poisson":
        lam = params[0]
        if math.isnan(lam) or math.isinf(lam):
            return lam if lam > 0 or math.isnan(lam) else 0.0
        lam = max(lam, 0.0)
        if lam > POISSON_NORMAL_ABOVE:
            return max(float(round(lam + math.sqrt(lam) * float(rng.standard_normal()))), 0.0)
        return float(rng.poisson(lam))
    if name == "normal":
        return params[0] + abs(params[1]) * float(rng.standard_normal())
    return params[0] + (params[1] - params[0]) * float(rng.random())


# --------------------------------------------------------------------------------------------
# Window functions. Each call site owns its accumulator in ``ctx.windows[key]``; with
# ``ctx.commit`` false (a look-ahead), the current value is folded in without being stored.


def _rolling(name: str, key: str, n: int, arg_v, arg_s):
    as_count = name == "count"
    arg_truth = _truth_of(arg_v) if as_count else None  # count: a condition's bools, not 1.0/0.0 != 0

    def vec(ctx):
        x = np.asarray(arg_truth(ctx), dtype=float) if as_count else np.asarray(arg_v(ctx), dtype=float)
        if x.shape != (ctx.runs,):
            x = np.broadcast_to(x, (ctx.runs,))
        state = ctx.windows.get(key)
        if state is None:
            state = ctx.windows[key] = RingBuffer(n, ctx.runs)
        total, filled = state.peek(x)
        if ctx.commit:
            state.push(x, total, held=ctx.held)
        if name == "mean":
            return total / filled
        return total

    def sca(ctx):
        x = arg_s(ctx)
        x = float(x != 0) if as_count else float(x)
        buf = ctx.windows.get(key)
        if buf is None:
            buf = ctx.windows[key] = deque(maxlen=n)
        values = list(buf)[-(n - 1):] if n > 1 else []
        values.append(x)
        if ctx.commit:
            buf.append(x)
        total = math.fsum(values)
        return total / len(values) if name == "mean" else total

    return vec, sca


class RingBuffer:
    """The last ``n`` weekly values of a window argument, for every run, with a running sum.

    The running sum is recomputed from the buffer every ``n`` pushes so that floating-point
    drift cannot accumulate over long horizons. The sum :meth:`peek` gives is the one
    :meth:`push` would compute next (the same operations in the same order), so a push after a
    peek of the same value takes it instead of computing it again; it is read-only, because the
    buffer and the expression's caller then share it.

    Each week is kept in its slot (``rows``, slot ``pos`` the next to be written) as a copy of
    the array pushed, or as that array itself when it is ``held`` (its caller never changes it
    in place while anything else holds it, see :attr:`EvalContext.held`): the same values
    without copying them every week.
    """

    __slots__ = ("rows", "n", "pos", "count", "total", "pushes")

    def __init__(self, n: int, runs: int):
        self.rows: list[np.ndarray | None] = [None] * n  # None: a slot not written yet
        self.n = n
        self.pos = 0
        self.count = 0
        self.total = np.zeros(runs)
        self.pushes = 0

    @property
    def values(self) -> np.ndarray:
        """The weeks kept, as an ``(n, runs)`` array in slot order (0.0 in slots not written
        yet)."""
        runs = self.total.shape[0]
        return np.stack([np.zeros(runs) if row is None else np.broadcast_to(row, (runs,)) for row in self.rows])

    def take(self, kept: np.ndarray) -> None:
        """Keep only the runs ``kept`` (positions, as ``ndarray.take`` reads them) in every week
        and in the sum: the engine cuts its windows so when it drops ended runs."""
        runs = self.total.shape[0]
        self.rows = [None if row is None else np.broadcast_to(row, (runs,)).take(kept) for row in self.rows]
        self.total = self.total.take(kept)

    def peek(self, x: np.ndarray) -> tuple[np.ndarray, int]:
        """Sum (read-only) and count of the window that ends with ``x`` (the oldest value drops
        out if full)."""
        if self.count < self.n:
            total, count = self.total + x, self.count + 1
        else:  # (total - oldest) + x, the second step into the first's new array
            total, count = self.total - self.rows[self.pos], self.n
            total += x
        total.setflags(write=False)
        return total, count

    def push(self, x: np.ndarray, peeked: np.ndarray | None = None, *, held: bool = False) -> None:
        """Add ``x`` as the newest week; ``peeked`` is what :meth:`peek` gave for ``x`` just
        before, if it was called (the new sum, not computed again); ``held``: keep ``x`` itself
        rather than a copy (see the class)."""
        if peeked is None:
            peeked = self.total - self.rows[self.pos] + x if self.count == self.n else self.total + x
        if self.count < self.n:
            self.count += 1
        self.rows[self.pos] = x if held else np.array(x, dtype=float)
        self.total = peeked
        self.pos = (self.pos + 1) % self.n
        self.pushes += 1
        if self.pushes % self.n == 0:
            self.total = self.resum()

    def resum(self) -> np.ndarray:
        """The sum of the weeks kept: ``values.sum(axis=0)``, bit for bit. numpy reduces the first
        axis of a table of two or more columns row after row into its identity (0.0), in slot
        order, which is done here on the weeks as they are (a test holds it to that); a lone
        column it sums pairwise, so one run's weeks are summed as a table."""
        runs = self.total.shape[0]
        if runs < 2:
            return self.values[: self.count].sum(axis=0)
        total = np.zeros(runs)
        for row in self.rows[: self.count]:
            np.add(total, row, out=total)
        return total


def _ever(key: str, arg_v, arg_s):
    """Whether the condition has held in any week so far, a truth value (see :func:`_with_truth`):
    a condition given as ``ever(...)`` is read as the bools kept, with no 1.0/0.0 round trip."""
    arg_truth = _truth_of(arg_v)

    def truth(ctx):
        x = np.broadcast_to(arg_truth(ctx), (ctx.runs,))
        seen = ctx.windows.get(key)
        now = x if seen is None else (seen | x)
        now.setflags(write=False)  # kept as the window and handed to the caller
        if ctx.commit:
            ctx.windows[key] = now
        return now

    def sca(ctx):
        x = arg_s(ctx) != 0
        now = bool(ctx.windows.get(key, False)) or x
        if ctx.commit:
            ctx.windows[key] = now
        return float(now)

    return _with_truth(truth), sca


def _weeks_since(key: str, arg_v, arg_s):
    """Weeks since the condition last held (0 if it holds now; infinity if it never has)."""

    arg_truth = _truth_of(arg_v)

    def vec(ctx):
        x = np.broadcast_to(arg_truth(ctx), (ctx.runs,))
        last = ctx.windows.get(key)
        if last is None:
            last = np.full(ctx.runs, -np.inf)
        now = np.where(x, float(ctx.week), last)
        if ctx.commit:
            ctx.windows[key] = now
        return ctx.week - now  # a new array

    def sca(ctx):
        x = arg_s(ctx) != 0
        last = ctx.windows.get(key, -math.inf)
        now = float(ctx.week) if x else last
        if ctx.commit:
            ctx.windows[key] = now
        return ctx.week - now

    return _owning(vec), sca


def site_seed_key(site: str) -> int:
    """A stable 32-bit integer for a random call site, used as a ``SeedSequence`` spawn key."""
    return zlib.crc32(site.encode("utf-8"))
