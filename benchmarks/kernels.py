"""What a compiled week could gain: one real process expression, five ways (issue [speed]).

Usage: python benchmarks/kernels.py [--runs 10000]

The expression is the frozen flagship's approval process (``../shared/bench/iran-us-2020-v1.yaml``,
``processes.approval_dynamics``), 11 arithmetic operations per run:

    president_approval - 0.05 * us_killed_week / us_casualty_tolerance
    + rally_effect * min(us_killed_attributed_week, 1) + 0.05 * (0.453 - president_approval)

It is evaluated over the runs

1. by redline's expression evaluator, as the engine does today (one numpy pass per operation,
   with Python between them);
2. by numpy written by hand (the same passes, no interpreter);
3. by a run-major bytecode interpreter compiled with numba (each run walks the program; what
   "a flat program that one kernel interprets" would cost);
4. by an operation-major interpreter compiled with numba (each operation walks the runs);
5. by a numba function written for this expression (what code generated per scenario would be).

All five must give the same numbers (checked). Prints nanoseconds per run, per operation, and as
a share of the numpy unit of contract check 13 (50 uniform draws and 100 elementwise operations per
run-week). Needs numba (in the ``bench`` extra). Asserts nothing beyond the agreement.
"""
from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from redline.expr import EvalContext, parse

TEXT = ("president_approval - 0.05 * us_killed_week / us_casualty_tolerance"
        " + rally_effect * min(us_killed_attributed_week, 1) + 0.05 * (0.453 - president_approval)")
NAMES = ("president_approval", "us_killed_week", "us_casualty_tolerance", "rally_effect", "us_killed_attributed_week")
OPERATIONS = 11

# The expression as postfix bytecode (what a scenario compiler would emit from the parsed tree).
LOAD, CONST, ADD, SUB, MUL, DIV, MIN = range(7)
CODE = np.array([
    (LOAD, 0), (CONST, 0), (LOAD, 1), (MUL, 0), (LOAD, 2), (DIV, 0), (SUB, 0),   # a - 0.05*k/t
    (LOAD, 3), (LOAD, 4), (CONST, 1), (MIN, 0), (MUL, 0), (ADD, 0),              # + r*min(ka, 1)
    (CONST, 0), (CONST, 2), (LOAD, 0), (SUB, 0), (MUL, 0), (ADD, 0),             # + 0.05*(0.453 - a)
], dtype=np.int64)
CONSTANTS = np.array([0.05, 1.0, 0.453])


def by_hand(a, k, t, r, ka):
    return a - 0.05 * k / t + r * np.minimum(ka, 1.0) + 0.05 * (0.453 - a)


@numba.njit(cache=True, inline="always")
def binary(op, x, y):
    """One binary operation of the bytecode on two numbers."""
    if op == ADD:
        return x + y
    if op == SUB:
        return x - y
    if op == MUL:
        return x * y
    if op == DIV:
        return x / y
    return min(x, y)


@numba.njit(cache=True)
def run_major(code, constants, values, out):
    """Each run walks the program on a small stack."""
    stack = np.empty(8)
    for run in range(values.shape[1]):
        top = 0
        for pc in range(code.shape[0]):
            op, arg = code[pc, 0], code[pc, 1]
            if op == LOAD:
                stack[top] = values[arg, run]
                top += 1
            elif op == CONST:
                stack[top] = constants[arg]
                top += 1
            else:
                top -= 1
                stack[top - 1] = binary(op, stack[top - 1], stack[top])
        out[run] = stack[0]
    return out


@numba.njit(cache=True)
def operation_major(code, constants, values, out):
    """Each operation walks the runs (numpy's order, without Python between the passes)."""
    runs = values.shape[1]
    stack = np.empty((8, runs))
    top = 0
    for pc in range(code.shape[0]):
        op, arg = code[pc, 0], code[pc, 1]
        if op == LOAD:
            stack[top] = values[arg]
            top += 1
        elif op == CONST:
            stack[top] = constants[arg]
            top += 1
        else:
            top -= 1
            x, y = stack[top - 1], stack[top]
            if op == ADD:  # whole-array operations: each one a loop over the runs
                x += y
            elif op == SUB:
                x -= y
            elif op == MUL:
                x *= y
            elif op == DIV:
                x /= y
            else:
                np.minimum(x, y, x)
    out[:] = stack[0]
    return out


@numba.njit(cache=True)
def generated(values, out):
    """The code a per-scenario compiler would emit for this expression."""
    for run in range(values.shape[1]):
        a, k, t, r, ka = values[0, run], values[1, run], values[2, run], values[3, run], values[4, run]
        out[run] = a - 0.05 * k / t + r * min(ka, 1.0) + 0.05 * (0.453 - a)
    return out


def unit_ns(runs: int, rng: np.random.Generator) -> float:
    """Contract check 13's numpy unit, in ns per run-week."""
    a, b, out = rng.random(runs), rng.random(runs), np.empty(runs)
    started = time.perf_counter()
    for _ in range(50):
        rng.random(runs, out=out)
    for _ in range(50):
        np.multiply(a, b, out=out)
        np.add(out, a, out=out)
    return (time.perf_counter() - started) / runs * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    values = np.stack([rng.uniform(0.3, 0.6, args.runs), rng.poisson(0.5, args.runs).astype(float),
                       np.full(args.runs, 1000.0), np.full(args.runs, 0.02), rng.poisson(0.2, args.runs).astype(float)])
    expression = parse(TEXT, names=frozenset(NAMES), site="processes.approval_dynamics")
    context = EvalContext(dict(zip(NAMES, values)), args.runs, lambda site: rng)
    out = np.empty(args.runs)
    ways = {
        "redline's evaluator": lambda: expression.evaluate(context),
        "numpy by hand": lambda: by_hand(*values),
        "numba, run-major interpreter": lambda: run_major(CODE, CONSTANTS, values, out),
        "numba, operation-major interpreter": lambda: operation_major(CODE, CONSTANTS, values, out),
        "numba, generated for the expression": lambda: generated(values, out),
    }
    reference = expression.evaluate(context)
    for name, way in ways.items():  # also compiles (or loads from numba's cache) before timing
        if not np.allclose(way(), reference, rtol=1e-15, atol=0.0):
            raise SystemExit(f"{name} disagrees with redline's evaluator")
    best = dict.fromkeys([*ways, "unit"], float("inf"))
    for _ in range(args.rounds):  # interleaved, so a burst of load hits all alike
        for name, way in ways.items():
            started = time.perf_counter()
            for _ in range(20):
                way()
            best[name] = min(best[name], (time.perf_counter() - started) / 20 / args.runs * 1e9)
        best["unit"] = min(best["unit"], unit_ns(args.runs, rng))
    unit = best.pop("unit")
    print(f"{args.runs:,} runs; numpy unit {unit:.0f} ns per run-week; expression of {OPERATIONS} operations")
    for name, ns in best.items():
        print(f"  {name:37s} {ns:6.2f} ns per run  {ns / OPERATIONS:5.2f} ns per operation  "
              f"{100 * ns / unit:5.1f}% of the unit")


if __name__ == "__main__":
    main()
