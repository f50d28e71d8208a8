"""Machine code for a few fixed array loops, built with llvmlite's IR builder (issue [speed]).

Some of the engine's work is one simple loop over the runs that numpy can only express as a
chain of whole-array passes: the counter-based random numbers (:mod:`redline.escalation.common`)
hash every run's counter with about a dozen ufunc calls, each reading and writing the whole
array. Here such a loop is written once, as LLVM IR through llvmlite's IR builder (no Python
source is generated or run), compiled for this CPU the first time a process asks for it (a few
tens of milliseconds), and called through ctypes. A kernel receives its numpy arrays as Python
objects and reads each one's data pointer from the array struct (``PyArrayObject_fields.data``,
right after the object header; checked against ``ndarray.ctypes.data`` when the module is built):
``ndarray.ctypes`` alone would cost more than hashing a thousand runs.

The numpy code stays the specification and the fallback: a kernel here must give the same bits
(the tests compare them), so results never depend on whether llvmlite is installed. Integer
arithmetic wraps modulo 2**64 as numpy's uint64 ufuncs do; floating-point operations are the
plain IEEE ones (no fast-math flags, no contraction into fused multiply-adds).

Set ``REDLINE_NATIVE=0`` to use the numpy code alone (e.g. to compare speeds).
"""
from __future__ import annotations

import ctypes
import os
import threading
from typing import Callable

import numpy as np

from redline.native import nash

__all__ = ["bargaining_enabled", "enabled", "hash_uniforms", "nash_brackets", "nash_linear_roots", "table_draws", "within"]

_lock = threading.Lock()


class _Once:
    """A value built the first time it is asked for (under the module's lock, so once per
    process); a build that gives None, or raises what a missing or failing llvmlite raises,
    leaves None for good."""

    def __init__(self, build: Callable[[], dict | None]):
        self.build, self.value, self.done = build, None, False

    def get(self) -> dict | None:
        if not self.done:
            with _lock:
                if not self.done:
                    try:
                        self.value = self.build()
                    except (ImportError, OSError, RuntimeError):
                        self.value = None
                    self.done = True
        return self.value

# SplitMix64's constants (Steele, Lea & Flood 2014; Stafford's "Mix13" finalizer)
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1, _MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_ONE_BITS = 0x3FF0000000000000  # the exponent bits of 1.0


def enabled() -> bool:
    """Whether kernels are in use: llvmlite importable, compilation worked, ``REDLINE_NATIVE``
    not set to 0."""
    return _compiled() is not None


def hash_uniforms(positions: np.ndarray | None, n: int, base: int, shift: float) -> np.ndarray | None:
    """The counter hash of :class:`redline.escalation.common.block_streams` as doubles, in one
    pass: for position ``p`` (``positions[i]``, or ``i`` when ``positions`` is None),
    ``z = mix(GOLDEN * p + base)`` with SplitMix64's finalizer, its top 52 bits as the fraction
    of a double in [1, 2), minus ``shift``. Returns a new array of ``n`` doubles (as many as
    ``positions`` when given), or None when no
    kernel is available (the caller then runs its numpy code)."""
    return _per_position(_HASH, positions, n, base, shift)


def table_draws(positions: np.ndarray | None, n: int, base: int, table: np.ndarray) -> np.ndarray | None:
    """Draws by inversion from a tabulated CDF, fused with the hash of :func:`hash_uniforms`:
    ``min(searchsorted(table, u, side="left"), table.size - 1)`` as doubles for each uniform
    ``u`` (shift 1). ``table``: sorted float64 with no NaN before its end, not empty. None when
    no kernel is available."""
    table = np.ascontiguousarray(table, dtype=np.float64)
    if table.size == 0:
        raise ValueError("table_draws needs a non-empty table")
    return _per_position(_TABLE, positions, n, base, table, table.size)


_HASH, _TABLE = ("hash_range", "hash_positions"), ("table_range", "table_positions")
_FLOAT64 = np.dtype(np.float64)  # numpy's one float64 dtype of native byte order


def _per_position(kernel: tuple[str, str], positions: np.ndarray | None, n: int, base: int, *extra) -> np.ndarray | None:
    """Run kernel ``kernel[0]`` (its range form) over positions 0..n-1, or ``kernel[1]`` over
    the given positions, into a new array of doubles; None when no kernel is available. Called
    thousands of times a simulation, so the names are built once."""
    kernels = _compiled()
    if kernels is None:
        return None
    if positions is None:
        out = np.empty(n)
        kernels[kernel[0]](out, n, base, *extra)
    else:
        positions = np.ascontiguousarray(positions, dtype=np.int64)
        out = np.empty(positions.size)
        kernels[kernel[1]](out, positions, positions.size, base, *extra)
    return out


def within(values: np.ndarray, lo: float, hi: float) -> bool | None:
    """Whether ``lo <= v <= hi`` for every value of a non-empty 1-D contiguous float64 array (a
    NaN is not): ``np.minimum.reduce(values) >= lo and np.maximum.reduce(values) <= hi`` in one
    compiled pass instead of two reductions. None when no kernel is available or the array is
    of another kind (the caller then reduces)."""
    kernels = _compiled()
    # cheap tests (thousands of calls a simulation): another equal dtype or a strided array
    # goes to the reductions, which give the same answer
    if kernels is None or type(values) is not np.ndarray or values.dtype is not _FLOAT64 or values.ndim != 1 \
            or values.strides[0] != 8 or values.shape[0] == 0:
        return None
    return bool(kernels["within"](values, values.shape[0], lo, hi))


def nash_brackets(ideal: np.ndarray, active: np.ndarray, everywhere: bool) -> tuple[np.ndarray, ...] | None:
    """What the Nash solver computes from (actors, batch) tables before its search when there is no
    status quo, one batch row at a time (see :func:`redline.native.nash.build_brackets`): the
    radius table and the rows' ``left``, ``right``, ``lo`` and ``hi``, with the bits of the numpy
    code. None when no kernel is available or for more than
    :data:`~redline.native.nash.MAX_ACTORS` actors."""
    kernels = _nash_compiled()
    actors, batch = ideal.shape
    if kernels is None or not 1 <= actors <= nash.MAX_ACTORS:
        return None
    ideal = np.ascontiguousarray(ideal, dtype=np.float64)
    radius, (left, right, lo, hi) = np.empty((actors, batch)), np.empty((4, batch))
    kernels["nash_brackets"](ideal, np.ascontiguousarray(active, dtype=np.bool_), radius, left, right, lo, hi,
                             actors, batch, int(everywhere))
    return radius, left, right, lo, hi


def nash_linear_roots(ideal: np.ndarray, w: np.ndarray, radius: np.ndarray, active: np.ndarray, left: np.ndarray,
                      right: np.ndarray, tolerance: float, everywhere: bool) -> np.ndarray | None:
    """The Nash bargaining optimum of every batch row for linear utilities, from (actors, batch)
    tables: the kink search and Newton steps of :mod:`redline.bargaining.nash` (``_linear_kinks``
    then ``_newton_root``) one row at a time, with the same bits (see :mod:`redline.native.nash`).
    None when no kernel is available, for more than :data:`~redline.native.nash.MAX_ACTORS`
    actors, or when a row holds both 0.0 and -0.0 inside its bracket; the caller then runs the
    numpy code."""
    kernels = _nash_compiled()
    actors, batch = ideal.shape
    if kernels is None or not 1 <= actors <= nash.MAX_ACTORS:
        return None
    tables = [np.ascontiguousarray(t, dtype=np.float64) for t in (ideal, w, radius)]
    ends = [np.ascontiguousarray(np.broadcast_to(e, (batch,)), dtype=np.float64) for e in (left, right)]
    out = np.empty(batch)
    status = kernels["nash_linear_roots"](*tables, np.ascontiguousarray(active, dtype=np.bool_), *ends, out,
                                          actors, batch, tolerance, int(everywhere))
    return out if status == 0 else None


def bargaining_enabled() -> bool:
    """Whether the bargaining solver's kernels are in use; compiles them the first time (a
    simulation with a Nash decision asks before its clock starts, as for :func:`enabled`)."""
    return _nash_compiled() is not None


def _nash_compiled() -> dict[str, Callable] | None:
    """The bargaining kernels of this process, compiled on first use (a module of their own);
    None when the kernels are off (:func:`_compiled` is None) or they could not be built."""
    return None if _compiled() is None else _BARGAINING.get()


def _compiled() -> dict[str, Callable] | None:
    """The kernels of this process, compiled on first use; None if unavailable."""
    return _CORE.get()


def _core_kernels() -> dict[str, Callable] | None:
    """The streams' and range kernels, unless ``REDLINE_NATIVE=0``, the array layout is not the
    one they read, or they fail :func:`_agrees`."""
    if os.environ.get("REDLINE_NATIVE", "1") == "0" or not _array_layout_known():
        return None
    kernels = _build()
    return kernels if _agrees(kernels) else None


def compile_module(module):
    """Optimise an llvmlite IR ``module`` for this CPU (``-O3``, loops vectorised, no fast-math:
    IEEE results) and load it; returns the execution engine that holds its machine code."""
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    machine = llvm.Target.from_default_triple().create_target_machine(
        opt=3, cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten())
    parsed = llvm.parse_assembly(str(module))
    parsed.verify()
    tuning = llvm.create_pipeline_tuning_options(speed_level=3)
    tuning.loop_vectorization = True
    passes = llvm.create_pass_builder(machine, tuning)
    passes.getModulePassManager().run(parsed, passes)
    engine = llvm.create_mcjit_compiler(parsed, machine)
    engine.finalize_object()
    return engine


def _new_module(name: str):
    """An empty llvmlite IR module for this process's target."""
    import llvmlite.binding as llvm
    from llvmlite import ir

    module = ir.Module(name=name)
    module.triple = llvm.get_process_triple()
    return module


def _build() -> dict[str, Callable]:
    """Compile every kernel into one module for the host CPU and wrap each in ctypes."""
    from llvmlite import ir

    module = _new_module("redline_native")
    for indexed, suffix in ((False, "range"), (True, "positions")):
        _hash_kernel(ir, module, f"hash_{suffix}", indexed)
        _table_kernel(ir, module, f"table_{suffix}", indexed)
    _within_kernel(ir, module)
    engine = compile_module(module)
    i64, f64, array = ctypes.c_int64, ctypes.c_double, ctypes.py_object
    signatures = {"hash_range": (array, i64, ctypes.c_uint64, f64),
                  "hash_positions": (array, array, i64, ctypes.c_uint64, f64),
                  "table_range": (array, i64, ctypes.c_uint64, array, i64),
                  "table_positions": (array, array, i64, ctypes.c_uint64, array, i64)}
    kernels = {name: ctypes.CFUNCTYPE(None, *args)(engine.get_function_address(name))
               for name, args in signatures.items()}
    kernels["within"] = ctypes.CFUNCTYPE(i64, array, i64, f64, f64)(engine.get_function_address("within"))
    kernels["_engine"] = engine  # keeps the machine code alive as long as the wrappers
    return kernels


def _build_nash() -> dict[str, Callable]:
    """Compile the bargaining solver's kernels (:mod:`redline.native.nash`) into a module of their
    own, so that a process that never bargains does not pay for them (about 0.2 s)."""
    from llvmlite import ir

    module = _new_module("redline_native_nash")
    nash.build(ir, module, _data)
    nash.build_brackets(ir, module, _data)
    engine = compile_module(module)
    i64, f64, array = ctypes.c_int64, ctypes.c_double, ctypes.py_object
    return {"nash_linear_roots": ctypes.CFUNCTYPE(i64, *[array] * 7, i64, i64, f64, i64)(
                engine.get_function_address("nash_linear_roots")),
            "nash_brackets": ctypes.CFUNCTYPE(None, *[array] * 7, i64, i64, i64)(engine.get_function_address("nash_brackets")),
            "_engine": engine}


def _hash_kernel(ir, module, name: str, indexed: bool) -> None:
    """``out[i] = u - shift`` with ``u`` the double in [1, 2) of :func:`_hash_double`."""
    _run_kernel(ir, module, name, indexed, [ir.DoubleType()], lambda b, u, shift: b.fsub(u, shift))


def _table_kernel(ir, module, name: str, indexed: bool) -> None:
    """``out[i] = min(k, size - 1)`` (a double) with ``k`` the number of leading entries of the
    sorted ``table`` below the uniform ``u - 1``: numpy's ``searchsorted(table, u - 1,
    side="left")`` for a table without NaN before its end, found by walking up from the start
    (the tables are short and most draws stop in the first entries)."""
    i64, f64 = ir.IntType(64), ir.DoubleType()

    def walk(b, u, table, size):
        uniform = b.fsub(u, f64(1.0))
        start = b.block
        fn = start.function
        head, test, step, found = (fn.append_basic_block(x) for x in ("walk", "test", "step", "found"))
        b.branch(head)
        b.position_at_end(head)
        k = b.phi(i64)
        k.add_incoming(i64(0), start)
        b.cbranch(b.icmp_signed("<", k, size), test, found)
        b.position_at_end(test)
        below = b.fcmp_ordered("<", b.load(b.gep(table, [k])), uniform)
        b.cbranch(below, step, found)
        b.position_at_end(step)
        k.add_incoming(b.add(k, i64(1)), step)
        b.branch(head)
        b.position_at_end(found)
        last = b.sub(size, i64(1))
        return b.sitofp(b.select(b.icmp_signed("<", k, last), k, last), f64)

    _run_kernel(ir, module, name, indexed, ["array", i64], walk)


def _within_kernel(ir, module) -> None:
    """``within(values, n, lo, hi) -> 1 | 0``: 1 if ``lo <= values[i] <= hi`` (ordered
    comparisons: a NaN fails) for every i < n (n >= 1), as an and over all of them (no early
    exit, so the loop vectorises)."""
    i64, i1, f64, obj = ir.IntType(64), ir.IntType(1), ir.DoubleType(), ir.IntType(8).as_pointer()
    fn = ir.Function(module, ir.FunctionType(i64, [obj, i64, f64, f64]), name="within")
    values_array, n, lo, hi = fn.args
    entry, loop, done = (fn.append_basic_block(x) for x in ("entry", "loop", "done"))
    b = ir.IRBuilder(entry)
    values = _data(b, ir, values_array, f64)
    b.branch(loop)
    b.position_at_end(loop)
    i = b.phi(i64)
    i.add_incoming(i64(0), entry)
    held = b.phi(i1)
    held.add_incoming(i1(1), entry)
    v = b.load(b.gep(values, [i]))
    inside = b.and_(b.fcmp_ordered(">=", v, lo), b.fcmp_ordered("<=", v, hi))
    now = b.and_(held, inside)
    following = b.add(i, i64(1))
    i.add_incoming(following, loop)
    held.add_incoming(now, loop)
    b.cbranch(b.icmp_signed("<", following, n), loop, done)
    b.position_at_end(done)
    b.ret(b.zext(now, i64))


def _run_kernel(ir, module, name: str, indexed: bool, extra: list, body) -> None:
    """A kernel ``name(out, [positions,] n, base, *extra)``: for i < n, ``out[i] = body(b, u,
    *extra)`` where ``u`` is the hash of position ``positions[i]`` (or ``i``) as a double in [1, 2)
    and an ``"array"`` in ``extra`` is passed as an ndarray of doubles (its data pointer)."""
    i64, f64, obj = ir.IntType(64), ir.DoubleType(), ir.IntType(8).as_pointer()
    types = [obj if t == "array" else t for t in extra]
    params = [obj] + ([obj] if indexed else []) + [i64, i64] + types
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), params), name=name)
    out_array, *rest = fn.args
    position_array, (n, base, *args) = (rest[0], rest[1:]) if indexed else (None, rest)
    entry, loop, done = (fn.append_basic_block(x) for x in ("entry", "loop", "done"))
    b = ir.IRBuilder(entry)
    out = _data(b, ir, out_array, f64)
    positions = _data(b, ir, position_array, i64) if indexed else None
    args = [_data(b, ir, a, f64) if t == "array" else a for t, a in zip(extra, args)]
    b.cbranch(b.icmp_signed(">", n, i64(0)), loop, done)
    b.position_at_end(loop)
    i = b.phi(i64)
    i.add_incoming(i64(0), entry)
    p = b.load(b.gep(positions, [i])) if indexed else i
    b.store(body(b, _hash_double(b, ir, p, base), *args), b.gep(out, [i]))
    following = b.add(i, i64(1))
    i.add_incoming(following, b.block)
    b.cbranch(b.icmp_signed("<", following, n), loop, done)
    b.position_at_end(done)
    b.ret_void()


def _hash_double(b, ir, position, base):
    """``bits_as_double(((z >> 12) ^ (z >> 43)) | ONE)``, a double in [1, 2), with ``z`` the
    first two rounds of SplitMix64's finalizer of ``GOLDEN * position + base`` (the third round,
    ``z ^ (z >> 31)``, folded into the shifts as
    :func:`redline.escalation.common._fraction_bits` does)."""
    i64 = ir.IntType(64)

    def const(x: int):
        return i64(x - 2**64 if x >= 2**63 else x)

    z = b.add(b.mul(position, const(_GOLDEN)), base)
    for bits, factor in ((30, _MIX1), (27, _MIX2)):
        z = b.mul(b.xor(z, b.lshr(z, i64(bits))), const(factor))
    fraction = b.or_(b.xor(b.lshr(z, i64(12)), b.lshr(z, i64(43))), const(_ONE_BITS))
    return b.bitcast(fraction, ir.DoubleType())


_DATA_OFFSET = object.__basicsize__  # PyObject_HEAD: an ndarray's data pointer follows it


def _data(b, ir, array, element):
    """The data pointer (as ``element*``) of the ndarray object ``array`` (an ``i8*``)."""
    field = b.gep(array, [ir.IntType(64)(_DATA_OFFSET)])
    return b.load(b.bitcast(field, element.as_pointer().as_pointer()))


def _array_layout_known() -> bool:
    """Whether an ndarray's data pointer sits where the kernels read it (only read here)."""
    probe = np.zeros(3)
    return ctypes.c_void_p.from_address(id(probe) + _DATA_OFFSET).value == probe.ctypes.data


def _agrees(kernels) -> bool:
    """A last look before use: hashing three runs by range and by position writes the same
    three values, all in [0, 1), and nothing past them."""
    by_range, by_position = np.zeros(4), np.zeros(4)
    kernels["hash_range"](by_range, 3, 12345, 1.0)
    kernels["hash_positions"](by_position, np.arange(3, dtype=np.int64), 3, 12345, 1.0)
    return bool(np.array_equal(by_range, by_position) and by_range[3] == 0
                and np.all((by_range[:3] >= 0) & (by_range[:3] < 1)) and len(set(by_range[:3])) == 3)


_CORE = _Once(_core_kernels)
_BARGAINING = _Once(_build_nash)  # built apart, on first need (see _build_nash)
