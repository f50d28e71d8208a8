"""Machine code built from the expression tree, for every pure expression of a scenario (issue [speed]).

Usage: python benchmarks/llvm_expressions.py [--runs 10000] [--scenario PATH]

``benchmarks/kernels.py`` showed that only code generated per scenario makes an expression
cheaper than redline's evaluator, and the README says such code must be emitted from the checked
expression tree, never written as Python source and run. This script does that, as a measured
prototype of the scenario compiler, on a whole scenario (the frozen flagship by default):

1. It collects every expression of the compiled scenario (initial values, effects, probabilities,
   processes, red lines, outcomes, decisions ...).
2. It translates the pure ones (no random draws, no windows, no registered functions, no
   ``exp``/``log``/``**``/``%``, whose numpy loops round differently from libm) from the same
   Python ``ast`` the parser checked into LLVM IR with llvmlite's IR builder: one function per
   expression, one loop over the runs, each operation with numpy's exact semantics (IEEE
   arithmetic without fast-math or contraction; ``min``/``max`` return the second operand on ties
   and propagate NaN as numpy's loops do; a truth value is 1.0/0.0 with NaN counting as true).
3. It compiles the module once (optimised for this CPU, vectorised loops) and checks, bit for bit,
   that every compiled function returns what ``Expression.evaluate`` returns on inputs mixing
   ordinary values, small whole numbers, ±0, ±inf and NaN.
4. It times all of them over the runs: the evaluator against the compiled functions, as the sum
   over the expressions, plus the compile time (the fixed cost a real compiler would cache).

Needs llvmlite (in the ``bench`` extra, with numba). Asserts nothing beyond the agreement.
"""
from __future__ import annotations

import argparse
import ast
import ctypes
import dataclasses
import time
from pathlib import Path

import numpy as np
from llvmlite import ir

from redline import expr as ex
from redline.native import compile_module
from redline.scenario import load_scenario

FLAGSHIP = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "iran-us-2020-v1.yaml"
DOUBLE, I64 = ir.DoubleType(), ir.IntType(64)
SIGNATURE = ir.FunctionType(ir.VoidType(), [DOUBLE.as_pointer().as_pointer(), DOUBLE, DOUBLE.as_pointer(), I64])
CALL = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_double, ctypes.c_void_p, ctypes.c_int64)
ARITHMETIC = {ast.Add: "fadd", ast.Sub: "fsub", ast.Mult: "fmul", ast.Div: "fdiv"}
COMPARISONS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
INTRINSICS = {"abs": "llvm.fabs", "sqrt": "llvm.sqrt", "floor": "llvm.floor", "round": "llvm.roundeven"}


class NotPure(Exception):
    """The expression uses something this prototype leaves to the evaluator."""


def expressions_of(node, seen=None) -> list[ex.Expression]:
    """Every :class:`Expression` reachable from a compiled program's fields."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return []
    seen.add(id(node))
    if isinstance(node, ex.Expression):
        return [node]
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        children = [getattr(node, f.name) for f in dataclasses.fields(node)]
    elif isinstance(node, dict):
        children = list(node.values())
    elif isinstance(node, (list, tuple)):
        children = list(node)
    else:
        return []
    return [e for child in children for e in expressions_of(child, seen)]


class Translator:
    """Emits one expression's loop body: the value of each node for run ``i``, as a double."""

    def __init__(self, module: ir.Module, builder: ir.IRBuilder, columns, week, index, names: list[str]):
        self.module, self.b, self.columns, self.week, self.i = module, builder, columns, week, index
        self.names = names
        self.loaded: dict[str, ir.Value] = {}

    def value(self, node: ast.AST) -> ir.Value:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise NotPure(type(node).__name__)
        return method(node)

    def truth(self, node: ast.AST) -> ir.Value:
        """``value != 0`` as an i1 (NaN is true), as the evaluator's truth values."""
        return self.b.fcmp_unordered("!=", self.value(node), DOUBLE(0.0))

    def as_double(self, flag: ir.Value) -> ir.Value:
        return self.b.uitofp(flag, DOUBLE)

    def _Constant(self, node):
        return DOUBLE(float(node.value))

    def _Name(self, node):
        if node.id == "week":
            return self.week
        if node.id in ("true", "True", "false", "False"):
            return DOUBLE(1.0 if node.id in ("true", "True") else 0.0)
        if node.id not in self.loaded:  # each input read once per run
            column = self.b.load(self.b.gep(self.columns, [I64(self.names.index(node.id))]))
            self.loaded[node.id] = self.b.load(self.b.gep(column, [self.i]))
        return self.loaded[node.id]

    def _BinOp(self, node):
        op = ARITHMETIC.get(type(node.op))
        if op is None:
            raise NotPure(type(node.op).__name__)  # % and ** round as numpy's loops do, not libm
        return getattr(self.b, op)(self.value(node.left), self.value(node.right))

    def _UnaryOp(self, node):
        if isinstance(node.op, ast.USub):
            return self.b.fneg(self.value(node.operand))
        if isinstance(node.op, ast.UAdd):
            return self.value(node.operand)
        if isinstance(node.op, ast.Not):
            return self.as_double(self.b.fcmp_ordered("==", self.value(node.operand), DOUBLE(0.0)))
        raise NotPure(type(node.op).__name__)

    def _BoolOp(self, node):
        combine = self.b.and_ if isinstance(node.op, ast.And) else self.b.or_
        out = self.truth(node.values[0])
        for part in node.values[1:]:
            out = combine(out, self.truth(part))
        return self.as_double(out)

    def _Compare(self, node):
        left, out = self.value(node.left), None
        for op, comparator in zip(node.ops, node.comparators):
            right = self.value(comparator)
            symbol = COMPARISONS[type(op)]
            # numpy: every comparison with NaN is false, except != which is true
            flag = (self.b.fcmp_unordered if symbol == "!=" else self.b.fcmp_ordered)(symbol, left, right)
            out = flag if out is None else self.b.and_(out, flag)
            left = right
        return self.as_double(out)

    def _Call(self, node):
        name = "if" if node.func.id == "IF" else node.func.id
        if name == "if":
            condition, a, b = node.args
            return self.b.select(self.truth(condition), self.value(a), self.value(b))
        if name in ("min", "max"):
            out = self.value(node.args[0])
            for arg in node.args[1:]:
                out = self.extreme(name, out, self.value(arg))
            return out
        if name == "clip":
            x, low, high = (self.value(a) for a in node.args)
            return self.extreme("min", self.extreme("max", x, low), high)
        if name in INTRINSICS:
            function = self.module.declare_intrinsic(INTRINSICS[name], [DOUBLE])
            return self.b.call(function, [self.value(node.args[0])])
        raise NotPure(name)  # exp, log, random draws, windows, registered functions

    def extreme(self, name: str, a: ir.Value, b: ir.Value) -> ir.Value:
        """numpy's ``minimum``/``maximum``: ``a`` where it is strictly beyond ``b`` or NaN, else
        ``b`` (so ties such as +0 and -0 give the second operand, and NaN propagates)."""
        beyond = self.b.fcmp_ordered("<" if name == "min" else ">", a, b)
        return self.b.select(self.b.or_(beyond, self.b.fcmp_unordered("uno", a, a)), a, b)


def check_pure(tree: ast.AST) -> None:
    """Raise :class:`NotPure` if ``tree`` holds an operation the translator leaves alone."""
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and type(node.op) not in ARITHMETIC:
            raise NotPure(type(node.op).__name__)  # % and ** round as numpy's loops do, not libm
        if isinstance(node, ast.Call):
            name = "if" if node.func.id == "IF" else node.func.id
            if name not in ("if", "min", "max", "clip", *INTRINSICS):
                raise NotPure(name)  # exp, log, random draws, windows, registered functions


def emit(module: ir.Module, name: str, expression: ex.Expression) -> list[str]:
    """Add ``void name(double** columns, double week, double* out, i64 runs)``; returns the
    names its ``columns`` hold, in order. Raises :class:`NotPure` for what it leaves alone."""
    if expression.stateful:
        raise NotPure("random draws or windows")
    tree = ast.parse(ex._IF_CALL.sub("IF", expression.text).strip(), mode="eval").body
    check_pure(tree)  # before a function is begun: a half-built one would spoil the module
    names = sorted(expression.names)
    function = ir.Function(module, SIGNATURE, name=name)
    columns, week, out, runs = function.args
    out.add_attribute("noalias")
    entry, loop, done = (function.append_basic_block(b) for b in ("entry", "loop", "done"))
    b = ir.IRBuilder(entry)
    b.cbranch(b.icmp_signed(">", runs, I64(0)), loop, done)
    b.position_at_end(loop)
    i = b.phi(I64)
    i.add_incoming(I64(0), entry)
    b.store(Translator(module, b, columns, week, i, names).value(tree), b.gep(out, [i]))
    following = b.add(i, I64(1))
    i.add_incoming(following, loop)
    b.cbranch(b.icmp_signed("<", following, runs), loop, done)
    b.position_at_end(done)
    b.ret_void()
    return names


def test_inputs(names, runs: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each name: a mix of values in [0, 1], small whole numbers, ±0, ±inf and NaN."""
    pool = np.array([0.0, -0.0, 1.0, 2.0, np.inf, -np.inf, np.nan, 0.5, -3.0])
    inputs = {}
    for name in names:
        column = rng.random(runs)
        special = rng.random(runs) < 0.3
        column[special] = rng.choice(pool, special.sum())
        inputs[name] = column
    return inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scenario", default=str(FLAGSHIP))
    args = parser.parse_args()
    program = load_scenario(args.scenario).program
    every = expressions_of(program)
    varying = [e for e in every if e._fixed is None]
    started = time.perf_counter()
    module, compiled, left = ir.Module(name="scenario"), [], {}
    for k, expression in enumerate(varying):
        try:
            compiled.append((expression, f"e{k}", emit(module, f"e{k}", expression)))
        except NotPure as reason:
            left[str(reason)] = left.get(str(reason), 0) + 1
    built = time.perf_counter()
    engine = compile_module(module)
    functions = [(e, CALL(engine.get_function_address(fn)), names) for e, fn, names in compiled]
    ready = time.perf_counter()
    print(f"{args.scenario}: {len(every)} expressions, {len(varying)} not constant; {len(compiled)} pure ones "
          f"compiled (IR {1e3 * (built - started):.0f} ms, optimise and load {1e3 * (ready - built):.0f} ms); "
          f"left to the evaluator: {', '.join(f'{n} {why}' for why, n in sorted(left.items()))}")

    rng = np.random.default_rng(0)
    names = sorted({n for e, _, _ in functions for n in e.names})
    inputs = test_inputs(names, args.runs, rng)
    context = ex.EvalContext(inputs, args.runs, lambda site: rng)
    context.week = 7
    calls = []
    with np.errstate(all="ignore"):
        for expression, function, used in functions:
            pointers = (ctypes.c_void_p * max(len(used), 1))(*[inputs[n].ctypes.data for n in used])
            out = np.empty(args.runs)
            calls.append((expression, function, pointers, out))
            function(pointers, 7.0, out.ctypes.data, args.runs)
            expected = np.asarray(expression.evaluate(context), dtype=float)
            if not np.array_equal(expected.view(np.int64), out.view(np.int64)) and not (
                    np.array_equal(np.isnan(expected), np.isnan(out))
                    and np.array_equal(expected[~np.isnan(expected)].view(np.int64), out[~np.isnan(out)].view(np.int64))):
                raise SystemExit(f"{expression.site}: compiled code disagrees with the evaluator: {expression.text}")
        print(f"all {len(calls)} agree with Expression.evaluate bit for bit (NaN payloads aside) on {args.runs:,} "
              "runs of mixed inputs (±0, ±inf, NaN, whole numbers)")
        large = [c for c in calls if operations(c[0]) >= 5]
        for label, group in ((f"all {len(calls)}", calls), (f"the {len(large)} with 5 or more operations", large)):
            evaluator, compiled_code = time_both(group, context, args.runs, args.rounds)
            print(f"{label}, once over {args.runs:,} runs: evaluator {1e3 * evaluator:.2f} ms "
                  f"({evaluator / args.runs * 1e9:.1f} ns per run), compiled {1e3 * compiled_code:.2f} ms "
                  f"({compiled_code / args.runs * 1e9:.1f} ns per run): {evaluator / compiled_code:.1f}x")


def operations(expression: ex.Expression) -> int:
    """Operators and calls in the expression's tree."""
    tree = ast.parse(ex._IF_CALL.sub("IF", expression.text).strip(), mode="eval")
    return sum(isinstance(n, (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call)) for n in ast.walk(tree))


def time_both(calls, context, runs: int, rounds: int) -> tuple[float, float]:
    """Best seconds for evaluating every expression of ``calls`` once: evaluator, compiled code."""
    best = [np.inf, np.inf]
    for _ in range(rounds):  # interleaved, so a burst of load hits both alike
        t = time.perf_counter()
        for expression, _, _, _ in calls:
            expression.evaluate(context)
        best[0] = min(best[0], time.perf_counter() - t)
        t = time.perf_counter()
        for _, function, pointers, out in calls:
            function(pointers, 7.0, out.ctypes.data, runs)
        best[1] = min(best[1], time.perf_counter() - t)
    return best[0], best[1]


if __name__ == "__main__":
    main()
