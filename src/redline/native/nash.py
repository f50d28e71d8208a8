"""The Nash bargaining solver's per-row search for linear utilities, as one compiled loop.

:func:`redline.bargaining.nash._solve` finds each batch row's optimum in two steps, written in
numpy over the whole batch: a binary search over the sorted ideal points for the kink or segment
that holds it (:func:`~redline.bargaining.nash._linear_kinks`), then safeguarded Newton steps inside
that segment (:func:`~redline.bargaining.nash._newton_root`; Press et al. 2007, *Numerical Recipes*
3rd ed., section 9.4). Rows are independent, and numpy spends most of that time on whole-batch
passes for a handful of actors. The kernel built here walks one row at a time through the same
operations in the same order: IEEE arithmetic without fast-math or contraction, sums over actors
one after the other from 0.0 (what :func:`~redline.bargaining.nash._row_sum` does below 8 actors),
numpy's ``sign`` and ``where`` rules. So every root has the bits the numpy code gives it; the
tests compare the two.

It declines (returns 1) when a row holds both 0.0 and -0.0 among the ideal points inside its
bracket: numpy's sort may order those otherwise than any fixed rule, and the caller then runs the
numpy code for the whole batch.
"""
from __future__ import annotations

from contextlib import contextmanager

# Actors the kernel handles: the sums are sequential below 8 (numpy's pairwise sum starts at 8).
MAX_ACTORS = 7
NEWTON_STEPS = 200  # as _newton_root
_SIGN_BIT = -(2**63)  # 0x8000000000000000 as a signed 64-bit constant


class _Code:
    """A thin layer over llvmlite's IR builder for imperative code: variables are stack slots
    (``alloca`` in the entry block, which LLVM's ``mem2reg`` turns into registers), with ``while``
    loops and ``if`` blocks as context managers."""

    def __init__(self, ir, b):
        self.ir, self.b = ir, b
        self.i64, self.f64, self.i1 = ir.IntType(64), ir.DoubleType(), ir.IntType(1)

    def var(self, value):
        with self.b.goto_entry_block():
            slot = self.b.alloca(value.type)
        self.b.store(value, slot)
        return slot

    def get(self, slot):
        return self.b.load(slot)

    def set(self, slot, value):
        self.b.store(value, slot)

    @contextmanager
    def while_(self, condition):
        """``while condition():`` — ``condition`` emits the test in the loop's head."""
        b = self.b
        fn = b.block.function
        head, body, after = (fn.append_basic_block(x) for x in ("head", "body", "after"))
        b.branch(head)
        b.position_at_end(head)
        b.cbranch(condition(), body, after)
        b.position_at_end(body)
        yield
        b.branch(head)
        b.position_at_end(after)

    @contextmanager
    def for_(self, stop, start: int = 0):
        """``for i in range(start, stop):`` yielding ``i`` (an i64)."""
        i = self.var(self.i64(start))
        with self.while_(lambda: self.b.icmp_signed("<", self.get(i), stop)):
            yield self.get(i)
            self.set(i, self.b.add(self.get(i), self.i64(1)))

    def f(self, x: float):
        return self.f64(x)

    def lt(self, x, y):
        return self.b.fcmp_ordered("<", x, y)

    def gt(self, x, y):
        return self.b.fcmp_ordered(">", x, y)

    def extreme(self, smallest: bool, x, y):
        """numpy's ``minimum`` (``smallest``) or ``maximum``: ``x`` where it is strictly beyond
        ``y`` or NaN, else ``y`` (ties such as 0.0 and -0.0 give the second operand)."""
        beyond = self.b.fcmp_ordered("<" if smallest else ">", x, y)
        return self.b.select(self.b.or_(beyond, self.b.fcmp_unordered("uno", x, x)), x, y)

    def abs(self, x):
        return self.b.call(self.b.module.declare_intrinsic("llvm.fabs", [self.f64]), [x])

    def bits(self, x):
        return self.b.bitcast(x, self.i64)

    def double(self, x):
        return self.b.bitcast(x, self.f64)


def build(ir, module, data) -> None:
    """Add ``nash_linear_roots(ideal, w, radius, active, left, right, out, actors, batch,
    tolerance, everywhere) -> status`` to ``module``. Tables are (actors, batch) C-ordered numpy
    arrays passed as objects (``data`` reads an array's data pointer); ``active`` is boolean.
    ``out`` receives each row's root; status 1 means nothing usable was written (see the module
    docstring)."""
    i64, f64, i8, obj = ir.IntType(64), ir.DoubleType(), ir.IntType(8), ir.IntType(8).as_pointer()
    fn = ir.Function(module, ir.FunctionType(i64, [obj] * 7 + [i64, i64, f64, i64]), name="nash_linear_roots")
    ideal_o, w_o, radius_o, active_o, left_o, right_o, out_o, actors, batch, tolerance, everywhere_flag = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    c = _Code(ir, b)
    ideal, w, radius, left, right, out = (data(b, ir, a, f64) for a in (ideal_o, w_o, radius_o, left_o, right_o, out_o))
    active = data(b, ir, active_o, i8)
    everywhere = b.icmp_signed("!=", everywhere_flag, i64(0))
    with b.goto_entry_block():
        points = b.alloca(f64, size=MAX_ACTORS)
    declined = fn.append_basic_block("declined")

    with c.for_(batch) as row:
        def at(table, j):
            return b.load(b.gep(table, [b.add(b.mul(j, batch), row)]))

        def on(j):  # the actor takes part in this row
            return b.or_(everywhere, b.icmp_signed("!=", at(active, j), i8(0)))

        lo_x, hi_x = b.load(b.gep(left, [row])), b.load(b.gep(right, [row]))
        count = _sorted_inside(c, points, actors, at, on, lo_x, hi_x, ideal, declined)
        a, b_ = _bracket(c, points, count, actors, lambda x, from_left: _one_sided(
            c, x, from_left, actors, at, ideal, w, radius, everywhere), lo_x, hi_x)
        root = _newton(c, a, b_, tolerance, lambda x: _derivatives(c, x, actors, at, on, ideal, w, radius))
        b.store(root, b.gep(out, [row]))
    b.ret(i64(0))
    b.position_at_end(declined)
    b.ret(i64(1))


def build_brackets(ir, module, data) -> None:
    """Add ``nash_brackets(ideal, active, radius, left, right, lo, hi, actors, batch, everywhere)``
    to ``module``: for each batch row, what :func:`redline.bargaining.nash._solve` computes before
    its search when there is no status quo, one row at a time with the same operations. ``lo``
    and ``hi`` are the extreme ideal points of the actors taking part (the others count as
    +inf and -inf; a minimum or maximum over actors is taken actor by actor, as
    ``_row_extreme`` takes it), ``radius`` (a table) each actor's distance to the farther of
    them (``where(to_lo >= to_hi, to_lo, to_hi)``: without a NaN the same bits as ``maximum``,
    which the numpy code takes when every end is finite), ``left``/``right`` the bracket where
    every actor taking part gains (``max(ideal - radius)``, ``min(ideal + radius)``)."""
    i64, f64, i8, obj = ir.IntType(64), ir.DoubleType(), ir.IntType(8), ir.IntType(8).as_pointer()
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [obj] * 7 + [i64, i64, i64]), name="nash_brackets")
    ideal_o, active_o, radius_o, left_o, right_o, lo_o, hi_o, actors, batch, everywhere_flag = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    c = _Code(ir, b)
    ideal, radius, left, right, lo_out, hi_out = (data(b, ir, a, f64) for a in (ideal_o, radius_o, left_o, right_o, lo_o, hi_o))
    active = data(b, ir, active_o, i8)
    everywhere = b.icmp_signed("!=", everywhere_flag, i64(0))
    inf = c.f(float("inf"))

    def cell(table, j, row):
        return b.gep(table, [b.add(b.mul(j, batch), row)])

    def taking_part(j, row):
        return b.or_(everywhere, b.icmp_signed("!=", b.load(cell(active, j, row)), i8(0)))

    def over_actors(smallest: bool, out, value):
        """``out[row] = value(0, row)``, then actor by actor ``out[row] = minimum(out[row],
        value(j, row))`` (or maximum): the rows form the inner loop, which LLVM vectorises."""
        with c.for_(batch) as row:
            b.store(value(i64(0), row), b.gep(out, [row]))
        with c.for_(actors, start=1) as j:
            with c.for_(batch) as row:
                at = b.gep(out, [row])
                b.store(c.extreme(smallest, b.load(at), value(j, row)), at)

    def point(absent):
        return lambda j, row: b.select(taking_part(j, row), b.load(cell(ideal, j, row)), absent)

    over_actors(True, lo_out, point(inf))
    over_actors(False, hi_out, point(b.fneg(inf)))
    with c.for_(actors) as j:
        with c.for_(batch) as row:
            x = b.load(cell(ideal, j, row))
            to_lo = c.abs(b.fsub(x, b.load(b.gep(lo_out, [row]))))
            to_hi = c.abs(b.fsub(x, b.load(b.gep(hi_out, [row]))))
            b.store(b.select(b.fcmp_ordered(">=", to_lo, to_hi), to_lo, to_hi), cell(radius, j, row))

    def reach(sign: int, absent):
        def value(j, row):
            x, r = b.load(cell(ideal, j, row)), b.load(cell(radius, j, row))
            return b.select(taking_part(j, row), b.fsub(x, r) if sign < 0 else b.fadd(x, r), absent)
        return value

    over_actors(False, left, reach(-1, b.fneg(inf)))
    over_actors(True, right, reach(1, inf))
    b.ret_void()


def _sorted_inside(c, points, actors, at, on, left, right, ideal, declined):
    """The row's ideal points strictly inside (left, right) of the actors taking part, sorted
    into ``points`` (insertion sort); returns how many. Branches to ``declined`` when they hold
    both 0.0 and -0.0."""
    b, i64 = c.b, c.i64
    count, zeros = c.var(i64(0)), c.var(i64(0))  # zeros: bit 1 for a 0.0 seen, bit 2 for -0.0
    with c.for_(actors) as j:
        v = at(ideal, j)
        with b.if_then(b.and_(on(j), b.and_(c.gt(v, left), c.lt(v, right)))):
            zero = b.fcmp_ordered("==", v, c.f(0.0))
            kind = b.select(b.icmp_signed("<", c.bits(v), i64(0)), i64(2), i64(1))
            c.set(zeros, b.or_(c.get(zeros), b.select(zero, kind, i64(0))))
            k = c.var(c.get(count))

            def shifting():  # k > 0 and points[k - 1] > v (points[0] read when k == 0, unused)
                above = b.load(b.gep(points, [b.select(b.icmp_signed(">", c.get(k), i64(0)),
                                                       b.sub(c.get(k), i64(1)), i64(0))]))
                return b.and_(b.icmp_signed(">", c.get(k), i64(0)), c.gt(above, v))

            with c.while_(shifting):
                previous = b.sub(c.get(k), i64(1))
                b.store(b.load(b.gep(points, [previous])), b.gep(points, [c.get(k)]))
                c.set(k, previous)
            b.store(v, b.gep(points, [c.get(k)]))
            c.set(count, b.add(c.get(count), i64(1)))
    following = b.block.function.append_basic_block("sorted")
    b.cbranch(b.icmp_signed("==", c.get(zeros), i64(3)), declined, following)
    b.position_at_end(following)
    return c.get(count)


def _bracket(c, points, count, actors, one_sided, left, right):
    """``_linear_kinks`` for one row: a binary search for the first sorted point right of the
    root; the bracket ``(a, b)`` is that point twice when it is a kink, else the segment that
    ends there (or at ``right``)."""
    b, i64 = c.b, c.i64
    lo, hi = c.var(i64(0)), c.var(count)
    with c.while_(lambda: b.icmp_signed("<", c.get(lo), c.get(hi))):
        mid = b.ashr(b.add(c.get(lo), c.get(hi)), i64(1))
        right_of_root = b.fcmp_ordered("<=", one_sided(b.load(b.gep(points, [mid])), False), c.f(0.0))
        c.set(hi, b.select(right_of_root, mid, c.get(hi)))
        c.set(lo, b.select(right_of_root, c.get(lo), b.add(mid, i64(1))))
    lo = c.get(lo)
    below = b.select(b.icmp_signed(">", lo, i64(0)),
                     b.load(b.gep(points, [b.select(b.icmp_signed(">", lo, i64(0)), b.sub(lo, i64(1)), i64(0))])), left)
    a, top = c.var(below), c.var(right)
    with b.if_then(b.icmp_signed("<", lo, count)):  # found: the candidate point
        candidate = b.load(b.gep(points, [lo]))
        c.set(top, candidate)
        kink = b.fcmp_ordered(">=", one_sided(candidate, True), c.f(0.0))
        c.set(a, b.select(kink, candidate, below))
    return c.get(a), c.get(top)


def _one_sided(c, x, from_left: bool, actors, at, ideal, w, radius, everywhere):
    """``_one_sided`` for one row: the sum over actors of ``±w / (radius - |ideal - x|)``, the
    sign from ``ideal - x`` as the numpy code takes it (its sign bit, after ``+ 0.0`` from the
    left, of ``0.0 - d`` from the right with ``-w``); an actor without weight adds 0.0 unless
    ``everywhere``."""
    b = c.b
    total = c.var(c.f(0.0))
    with c.for_(actors) as j:
        wj = at(w, j)
        d = b.fsub(at(ideal, j), x)
        sign, flipped = (b.fadd(d, c.f(0.0)), wj) if from_left else (b.fsub(c.f(0.0), d), b.fneg(wj))
        signed = c.double(b.xor(c.bits(flipped), b.and_(c.bits(sign), c.i64(_SIGN_BIT))))
        inv = b.fdiv(signed, b.fsub(at(radius, j), c.abs(d)))
        weightless = b.and_(b.not_(everywhere), b.not_(c.gt(wj, c.f(0.0))))
        c.set(total, b.fadd(c.get(total), b.select(weightless, c.f(0.0), inv)))
    return c.get(total)


def _derivatives(c, x, actors, at, on, ideal, w, radius):
    """``_derivatives`` for linear utilities in one row: ``f = sum w g' / g`` and ``f' = sum w (0 g
    - g'^2) / g^2`` with ``g = radius - |x - ideal|`` and ``g' = -sign(x - ideal)`` (numpy's sign:
    0.0 at ±0, NaN kept); an actor not taking part adds 0.0."""
    b, f = c.b, c.f
    total, slope_total = c.var(f(0.0)), c.var(f(0.0))
    with c.for_(actors) as j:
        wj = at(w, j)
        d = b.fsub(x, at(ideal, j))
        sign = b.select(c.gt(d, f(0.0)), f(1.0), b.select(c.lt(d, f(0.0)), f(-1.0),
                                                          b.select(b.fcmp_ordered("==", d, f(0.0)), f(0.0), d)))
        slope = b.fneg(sign)
        g = b.fsub(at(radius, j), c.abs(d))
        term = b.fdiv(b.fmul(wj, slope), g)
        curve = b.fdiv(b.fmul(wj, b.fsub(b.fmul(f(0.0), g), b.fmul(slope, slope))), b.fmul(g, g))
        taking_part = on(j)
        c.set(total, b.fadd(c.get(total), b.select(taking_part, term, f(0.0))))
        c.set(slope_total, b.fadd(c.get(slope_total), b.select(taking_part, curve, f(0.0))))
    return c.get(total), c.get(slope_total)


def _newton(c, a, top, tolerance, derivatives):
    """``_newton_root`` for one row: from the bracket's middle, Newton steps, a step that leaves the
    bracket replaced by its middle, until a step moves no more than ``tolerance`` (at most
    ``NEWTON_STEPS``); a row whose bracket is empty or a point keeps its middle."""
    b, f, i64 = c.b, c.f, c.i64
    half = lambda lo, hi: b.fmul(f(0.5), b.fadd(lo, hi))  # noqa: E731 - numpy's 0.5 * (a + b)
    x, lo, hi = c.var(half(a, top)), c.var(a), c.var(top)
    steps, moving = c.var(i64(0)), c.var(c.gt(top, a))
    with c.while_(lambda: b.and_(c.get(moving), b.icmp_signed("<", c.get(steps), i64(NEWTON_STEPS)))):
        now = c.get(x)
        value, slope = derivatives(now)
        new = b.fsub(now, b.fdiv(value, slope))
        up = c.gt(value, f(0.0))
        c.set(lo, b.select(up, now, c.get(lo)))
        c.set(hi, b.select(up, c.get(hi), now))
        inside = b.and_(b.fcmp_ordered(">=", new, c.get(lo)), b.fcmp_ordered("<=", new, c.get(hi)))
        new = b.select(inside, new, half(c.get(lo), c.get(hi)))
        c.set(moving, c.gt(c.abs(b.fsub(new, now)), tolerance))
        c.set(x, new)
        c.set(steps, b.add(c.get(steps), i64(1)))
    return c.get(x)
