"""What both escalation engines share: run set-up, random streams, bounds, result assembly."""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import xarray as xr
from scipy.special import ndtri

from redline import __version__, bargaining, native
from redline.budget import check_seed
from redline.errors import ParameterError, did_you_mean
from redline.expr import parse, site_seed_key
from redline.limits import MAX_HORIZON, check_horizon
from redline.scenario.compile import CompiledPolicy, Program
from redline.spread import SPREAD_FROM, spread

__all__ = [
    "BLOCK_RUNS",
    "memory_parts",
    "describe_failure",
    "writers",
    "MAX_DELAY",
    "ExternalChoice",
    "RunSetup",
    "block_streams",
    "bounds_clipper",
    "make_setup",
    "block_parameters",
    "run_parameters",
    "as_seed_sequence",
    "SeedLike",
    "assemble",
    "solved_by_nash",
    "block_spans",
]

BLOCK_RUNS = 32768
"""Runs per replication block (the random numbers of a run do not depend on it: see :class:`block_streams`)."""

SPAN_BYTES = 384 << 20
"""Working memory (by :func:`memory_parts`' estimate) up to which the vectorised engine simulates
several consecutive blocks as one (see :func:`block_spans`). An engineering choice, not a model
number: each simulated week costs a fixed Python overhead whatever its runs, so fewer, larger
working sets cost less (11% less for ``proxy-deterrence``'s 100,000 runs in one span of four
blocks than in four), while memory grows with the span."""

SPARSE_DRAWS = 32
"""Up to this many runs needing a track's uniforms, the engine reads them alone (see
``engine._Block.uniforms``): the same numbers as reading every run's."""

DENSE_SHARE = 0.5
"""From this share of the working runs up, an expression without random draws that is needed
for some runs only is evaluated for all of them (see ``engine._Block.evaluate_rows``)."""

MAX_DELAY = 64
"""The most slots an attribution ring grows to (:class:`~redline.escalation.pending.PendingRing`):
delays of up to ``MAX_DELAY - 1`` weeks wait there; longer ones wait in a list and land on time
(no delay is cut, see ``engine._Block.attribute``)."""


@dataclass
class RunSetup:
    seed_sequence: np.random.SeedSequence
    horizon: int
    parameters: dict[str, float | np.ndarray]  # a float, or one value per run (shape (runs,))
    policies: dict[str, CompiledPolicy]
    strategies: dict[str, str]
    probes: list = None  # [(name, Expression, week)]
    choosers: dict[str, Callable[[ExternalChoice], dict[str, np.ndarray]]] = field(default_factory=dict)


@dataclass
class ExternalChoice:
    """What an ``external`` policy is asked once a week, for all live runs of a block together.

    The chooser returns, per track, an int array over ``runs``: the position of the chosen action
    in ``options[track]`` or -1 for none. The engine then selects it exactly as a scripted policy
    giving that action probability 1 would (same random draws), so an external seat that copies a
    strategy reproduces the strategy's results under the same seed.

    Attributes
    ----------
    actor, week:
        who chooses, and the simulated week (1-based).
    runs:
        global run indices (``block * BLOCK_RUNS + position``) of the runs asked, shape (n,).
    values:
        every name the expressions can read (state, parameters, attributes, last week's actions,
        red lines, outcomes) -> array of shape (n,), at the start of the week; ``flow``
        variables hold last week's amounts (what happened), not the value they are reset to.
    options:
        track -> option id -> bool array (n,): whether the option is available in that run. An
        option is an action id, or ``action.level`` for each level of an action with levels (as
        in scripted probabilities); a track whose action is scheduled this week offers none.
    expected:
        ``expected(option_id)`` -> variable -> expected one-step change (n,), from the option's
        effects with every random draw replaced by its mean (as the logit policy sees them).
        It reads the engine's state: call it only while the chooser runs.
    """

    actor: str
    week: int
    runs: np.ndarray
    values: dict[str, np.ndarray]
    options: dict[str, dict[str, np.ndarray]]
    expected: Callable[[str], dict[str, np.ndarray]]


class block_streams:
    """The random numbers of one block: a counter-based generator per random call site.

    The uniform of site *s*, call *c* (1, 2, ... per block) and run *r* (the global run index,
    ``block * BLOCK_RUNS + position``) is a pure function of them: a 64-bit hash (the SplitMix64
    finalizer, Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators",
    OOPSLA, doi:10.1145/2660193.2660195) of ``call_key + GOLDEN * (r + 1)``, where ``call_key =
    mix(site_key + GOLDEN * c)`` and ``site_key`` comes from ``SeedSequence(entropy,
    spawn_key=(*key, crc32(s)))``. So a call computes numbers only for the runs it reads (the runs
    still simulated, ``subset``, or fewer: :meth:`rows`), a run's numbers never depend on which
    other runs ended or were read, and they depend neither on the block size nor on how runs are
    split into blocks: run *r* draws the same numbers in a run of ``r + 1`` runs as in one of a
    million. For one call the values are SplitMix64's own output sequence started at
    ``call_key`` (which passes BigCrush); calls start at hashed points of its 2**64 cycle.
    """

    def __init__(self, seed_sequence: np.random.SeedSequence, block: int, runs: int):
        self.entropy = seed_sequence.entropy
        self.key = tuple(seed_sequence.spawn_key)
        self.block = block
        self.runs = runs
        self.subset: np.ndarray | None = None
        self.sites: dict[str, _Site] = {}
        self.views: dict[str, _SiteStream] = {}
        # GOLDEN * (r + 1) for the block's runs r = first + position, wrapping modulo 2**64 as
        # uint64 arithmetic does: GOLDEN * position + GOLDEN * (first + 1)
        self.origin = _GOLDEN * (block * BLOCK_RUNS + 1) & _MASK
        self.offsets = np.arange(runs, dtype=np.uint64) * _GOLDEN_0D + np.uint64(self.origin)
        self.work = np.empty(runs, dtype=np.uint64)  # scratch for the mixing (never returned)
        self.nowhere = _NoRowStreams(self)

    def site(self, name: str) -> _Site:
        site = self.sites.get(name)
        if site is None:
            ss = np.random.SeedSequence(self.entropy, spawn_key=self.key + (site_seed_key(name),))
            site = self.sites[name] = _Site(int(ss.generate_state(1, np.uint64)[0]), self)
        return site

    def get(self, name: str) -> _SiteStream:
        """Site ``name``'s draws for the runs still simulated."""
        view = self.views.get(name)
        if view is None:
            view = self.views[name] = _SiteStream(self.site(name), self)
        return view

    def rows(self, rows: np.ndarray) -> _RowStreams:
        """The same streams read only at ``rows`` (positions among the runs still simulated):
        a call computes those runs' numbers alone, and moves the site's call counter on as a
        call for every run does, so later calls stay aligned."""
        if rows.size == 0:
            return self.nowhere
        return _RowStreams(self, rows if self.subset is None else self.subset[rows])


class _Site:
    """One call site of a block: its 64-bit key and the number of calls made so far."""

    __slots__ = ("key", "calls", "streams")

    def __init__(self, key: int, streams: block_streams):
        self.key = key
        self.calls = 0
        self.streams = streams

    def next_call_key(self) -> int:
        self.calls += 1
        return _mix64((self.key + _GOLDEN * self.calls) & _MASK)


class _RowStreams:
    """A block's streams seen through a fixed set of block positions (see :meth:`block_streams.rows`)."""

    __slots__ = ("owner", "runs", "subset")

    def __init__(self, owner: block_streams, subset: np.ndarray):
        self.owner = owner
        self.runs = owner.runs
        self.subset = subset

    def get(self, name: str) -> _SiteStream:
        return _SiteStream(self.owner.site(name), self)


class _NoRowStreams(_RowStreams):
    """A block's streams read at no position (:meth:`block_streams.rows` of no row; a site that
    no run reads this week still moves on, hundreds of times a simulation): a call only moves
    its site's counter on, so one view per site, kept, serves every such call."""

    __slots__ = ("views",)

    def __init__(self, owner: block_streams):
        super().__init__(owner, np.zeros(0, dtype=np.intp))
        self.views: dict[str, _SiteStream] = {}

    def get(self, name: str) -> _SiteStream:
        view = self.views.get(name)
        if view is None:
            view = self.views[name] = _SiteStream(self.owner.site(name), self)
        return view


class _SiteStream:
    """The draws of one call site at the positions its owner reads (all runs of the block, the
    runs still simulated, or given rows). ``size`` is the number of positions read, as for a
    numpy ``Generator``; a call for no position only moves the counter on (draws nothing)."""

    __slots__ = ("site", "owner")

    def __init__(self, site: _Site, owner: block_streams | _RowStreams):
        self.site = site
        self.owner = owner

    def _hashes(self, shift: float) -> np.ndarray:
        """The call's hashes at the positions read as doubles in [1, 2) (their top 52 bits as the
        fraction), minus ``shift``: a new array, may be empty."""
        call = self._next_call()
        return np.empty(0) if call is None else self._hashed(call, shift)

    def _next_call(self) -> tuple[np.ndarray | None, int, int] | None:
        """Move the site's counter on; the positions read (None: all runs), their number and
        the call's key, or None for a call that reads no position."""
        subset = self.owner.subset
        if subset is not None and subset.size == 0:
            self.site.calls += 1  # a call for no run: only the counter moves
            return None
        return subset, self.owner.runs if subset is None else subset.size, self.site.next_call_key()

    def _base(self, key: int) -> int:
        """``GOLDEN * (first + 1) + key``: what a call adds to ``GOLDEN * position``."""
        return (self.site.streams.origin + key) & _MASK

    def _hashed(self, call, shift: float) -> np.ndarray:
        """:meth:`_hashes` of a call: one compiled pass (:func:`redline.native.hash_uniforms`)
        where available, else the numpy passes below, which give the same bits."""
        subset, n, key = call
        streams = self.site.streams
        base = self._base(key)
        fast = native.hash_uniforms(subset, n, base, shift)
        if fast is not None:
            return fast
        if subset is None:
            x = np.add(streams.offsets, np.array(key, dtype=np.uint64))
        else:  # GOLDEN * position + base: cheaper than offsets.take(subset)
            positions = np.asarray(subset, dtype=np.int64).view(np.uint64)  # >= 0: the same bits
            x = np.multiply(positions, _GOLDEN_0D)
            np.add(x, np.array(base, dtype=np.uint64), out=x)
        scratch = streams.work[:x.size]
        u = _fraction_bits(_mix_in_place(x, scratch), scratch)
        return np.subtract(u, shift, out=u)

    def inverse_cdf(self, cdf: np.ndarray) -> np.ndarray:
        """Draws by inversion of a tabulated CDF from this call's uniforms ``u`` (those
        :meth:`random` would give): the first ``k`` with ``cdf[k] >= u``, at most the table's
        last index, as doubles. ``cdf``: non-decreasing, no NaN, not empty. One compiled pass
        where available (:func:`redline.native.table_draws`: hash and look-up together)."""
        call = self._next_call()
        if call is None:
            return np.empty(0)
        subset, n, key = call
        fast = native.table_draws(subset, n, self._base(key), cdf)
        if fast is not None:
            return fast
        u = self._hashed(call, 1.0)
        return np.minimum(np.searchsorted(cdf, u, side="left"), cdf.size - 1).astype(float)

    def random(self, size: int) -> np.ndarray:
        """Uniforms on [0, 1): the top 52 bits of each hash as the fraction of a double in [1, 2),
        minus 1 (multiples of 2**-52; Vigna, "xoshiro / xoroshiro generators and the PRNG shootout",
        prng.di.unimi.it, section "Generating uniform doubles in the unit interval")."""
        return self._hashes(1.0)

    def standard_normal(self, size: int) -> np.ndarray:
        """Standard normals by inversion, ``ndtri(u)`` of a uniform on the open interval (0, 1)
        (the same 52 bits, centred: ``(2k + 1) * 2**-53``): a monotone function of its uniform, so
        a normal draw shares its randomness across strategies that scale it (common random
        numbers; Glasserman & Yao 1992, Management Science 38(6), doi:10.1287/mnsc.38.6.884)."""
        z = self._hashes(1.0 - 2.0**-53)  # exact: 1 + k 2**-52 - (1 - 2**-53) = (2k + 1) 2**-53
        return ndtri(z, out=z)

    def poisson(self, lam) -> np.ndarray:
        """numpy's Poisson sampler (for rates above the inversion tables; see
        :func:`redline.expr._poisson_inverse`), from a generator seeded by the site's key, its
        current call number (the call that drew the uniforms just before) and the block: it moves
        no counter, so the site's later calls stay aligned whatever the rates. It draws for the
        whole block (rate 0 at positions not read) as numpy's sampler has no jump: the numbers of
        the runs read can depend on which other runs are read there (this rare path only)."""
        site, streams = self.site, self.site.streams
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
            site.key, spawn_key=(site.calls, streams.block))))
        lam = np.asarray(lam, dtype=float)
        subset = self.owner.subset
        if subset is None:
            return rng.poisson(np.broadcast_to(lam, (streams.runs,)))
        full = np.zeros(streams.runs)
        full[subset] = lam
        return rng.poisson(full)[subset]


_GOLDEN = 0x9E3779B97F4A7C15  # 2**64 / golden ratio, odd: SplitMix64's increment (Steele et al. 2014)
# numpy constants as 0-d arrays: a ufunc takes them faster than numpy scalars or Python ints
_GOLDEN_0D = np.array(_GOLDEN, dtype=np.uint64)
_MIX1, _MIX2 = np.array(0xBF58476D1CE4E5B9, dtype=np.uint64), np.array(0x94D049BB133111EB, dtype=np.uint64)
_MASK = 2**64 - 1
_FRACTION_SHIFT = np.array(12, dtype=np.uint64)
_ONE_BITS = np.array(0x3FF0000000000000, dtype=np.uint64)  # the exponent bits of 1.0


def _mix64(z: int) -> int:
    """SplitMix64's finalizer on a Python int (Steele, Lea & Flood 2014; Stafford's "Mix13")."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _mix_in_place(x: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """The first two rounds of :func:`_mix64` on every element of the uint64 array ``x``, in place
    (``scratch``: a uint64 array of the same size, overwritten); uint64 products wrap modulo 2**64
    as the finalizer's do. :func:`_fraction_bits` does the last round."""
    for shift, factor in ((_SHIFT30, _MIX1), (_SHIFT27, _MIX2)):
        np.right_shift(x, shift, out=scratch)
        np.bitwise_xor(x, scratch, out=x)
        np.multiply(x, factor, out=x)
    return x


def _fraction_bits(x: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """The last round of :func:`_mix64` (``z ^ (z >> 31)``) and its top 52 bits as the fraction of
    a double in [1, 2), in place: ``(z ^ (z >> 31)) >> 12 == (z >> 12) ^ (z >> 43)``, one pass
    fewer."""
    np.right_shift(x, _SHIFT43, out=scratch)
    np.bitwise_or(scratch, _ONE_BITS, out=scratch)  # the exponent of 1.0 (z >> 12 has none)
    np.right_shift(x, _FRACTION_SHIFT, out=x)
    np.bitwise_xor(x, scratch, out=x)
    return x.view(np.float64)


_SHIFT30, _SHIFT27, _SHIFT43 = (np.array(k, dtype=np.uint64) for k in (30, 27, 43))


@contextmanager
def expected_mode(ctx) -> Iterator[None]:
    """Evaluate in expected mode inside the block: random draws replaced by their means, windows
    not committed. The caller's mode comes back afterwards, so look-aheads may nest (a chooser's
    look-ahead weighing a red line's logit owner)."""
    outer = ctx.expected, ctx.commit
    ctx.expected, ctx.commit = True, False
    try:
        yield
    finally:
        ctx.expected, ctx.commit = outer


def collective_positions(decision, positions, saliences, capabilities, live: np.ndarray | None = None) -> np.ndarray:
    """The bargaining model's predicted position per run, from one array per party (each over
    the runs), for the runs in mask ``live`` (all if None): the tables are filled whole, then
    the live runs are cut from them in one pass rather than from every input."""
    runs = np.shape(positions[0])[0]
    if solved_by_nash(decision):
        return _nash_positions(decision, positions, saliences, capabilities, live, runs)
    tables = np.empty((3, len(positions), runs))  # (position, salience, capability) x parties x runs
    pos, sal, cap = tables
    for j, (p, s, c) in enumerate(zip(positions, saliences, capabilities)):
        pos[j], sal[j], cap[j] = p, s, c
    if live is not None:
        pos, sal, cap = tables.reshape(-1, runs).compress(live, axis=1).reshape(3, len(positions), -1)
    np.clip(sal, 0.0, 1.0, out=sal)
    np.maximum(cap, 0.0, out=cap)
    actors = bargaining.Actors.from_arrays(pos.T, sal.T, cap.T, names=decision.parties)
    return np.asarray(bargaining.predict(actors, model=decision.model, **decision.options).prediction, dtype=float)


def solved_by_nash(decision) -> bool:
    """Whether ``decision``'s model is the Nash bargaining solution (solved by
    :func:`_nash_positions`, with the compiled kernels of :mod:`redline.native.nash` if at hand)."""
    return bargaining.model_function(decision.model) is bargaining.nash.predict


def _nash_positions(decision, positions, saliences, capabilities, live, runs: int) -> np.ndarray:
    """The Nash bargaining model's positions (see :func:`collective_positions`): each distinct
    input array (parties often share one: the same rule, or the same number) is cut to the
    live runs and clipped once, a number spread over the runs (stride 0) staying one number
    spread over the live runs, and the parties go to :func:`bargaining.nash.predict_parties`,
    which pools the ones with the same ideal points before building its tables (the same
    numbers as the tables of every party through an Actors table, without its copies)."""
    count = runs if live is None else int(np.count_nonzero(live))
    taken = None if live is None else live.nonzero()[0]
    cut: dict[tuple[int, object], tuple] = {}  # (id of an input, clip) -> (the input, kept so the id stays its own; its live runs)

    def live_runs(x, clip=None) -> np.ndarray:
        held = cut.get((id(x), clip))
        if held is None:
            row = np.asarray(x, dtype=float)
            if row.shape != (runs,):
                row = np.broadcast_to(row, (runs,))
            if count and (row.strides == (0,) or _same_everywhere(row)):  # one entry stands for every live run
                row = row[:1]
            elif taken is not None:
                row = row.take(taken)
            held = cut[id(x), clip] = (x, row if clip is None else clip(row))
        return held[1]

    return bargaining.nash.predict_parties(
        [live_runs(p) for p in positions],
        [live_runs(s, _clip_salience) for s in saliences],
        [live_runs(c, _clip_capability) for c in capabilities],
        batch=count, **decision.options)


def _same_everywhere(row: np.ndarray) -> bool:
    """Whether every entry of ``row`` has the first one's bits (a parameter that is one number for
    every run, say): the first and last entries are compared before the whole row."""
    bits = row.view(np.int64)
    return bool(bits[0] == bits[-1] and (bits == bits[0]).all())


def _clip_salience(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0)


def _clip_capability(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def compile_probes(program: Program, probes: dict[str, tuple[str, int]] | None) -> list:
    """Compile probe expressions against the program's names; weeks must be 1..MAX_HORIZON."""
    compiled = []
    for name, (text, week) in (probes or {}).items():
        week = int(week)
        if not 1 <= week <= MAX_HORIZON:
            raise ParameterError(f"probe '{name}': week {week} is outside 1..{MAX_HORIZON}")
        compiled.append((name, parse(text, names=program.names, site=f"probes.{name}"), week))
    return compiled


def bounds_clipper(program: Program, name: str) -> Callable[[np.ndarray], np.ndarray]:
    """The function that brings values of variable ``name`` within its bounds (a boolean to 0 or
    1), chosen once per variable; it clips in place an array that is its own (see :func:`_owned`)."""
    lo, hi = program.bounds[name]
    if program.kinds[name] == "boolean":
        return _as_boolean
    if lo is not None and hi is not None:
        return partial(_clip_between, lo, hi)
    if lo is not None:
        return partial(_clip_by, np.maximum, _Bound(lo))
    if hi is not None:
        return partial(_clip_by, np.minimum, _Bound(hi))
    return _unbounded


def bounds_setter(program: Program, name: str) -> Callable[[Any], np.ndarray]:
    """The function that gives ``values`` within variable ``name``'s bounds as a new array,
    leaving ``values`` as it is (a ``set`` may give an array someone else holds): the clip of
    :func:`bounds_clipper` on a copy, without the copy where the clip makes a new array anyway
    (a bound compared with ``np.maximum``/``np.minimum``, a boolean made 0 or 1)."""
    clip = bounds_clipper(program, name)
    if clip is _as_boolean:
        return _as_boolean
    if isinstance(clip, partial) and clip.func is _clip_by:
        return partial(_bounded_copy, *clip.args)
    return partial(_clip_copy, clip)


def _bounded_copy(bound_function, bound: _Bound, values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return bound_function(values, bound.like(values))


def _clip_copy(clip, values) -> np.ndarray:
    return clip(np.array(values, dtype=float))


def _as_boolean(values) -> np.ndarray:
    return (np.asarray(values) != 0).astype(float)


def _clip_between(lo: float, hi: float, values) -> np.ndarray:
    """``np.clip(values, lo, hi)``, in place when the array is its own. A float array whose least
    and greatest values lie within the bounds is returned as it is: clipping leaves such values
    as they are, bit for bit (``-0.0`` within ``[0, 1]`` stays ``-0.0``), and the test
    (:func:`all_within`) costs less than the clip (from :data:`redline.spread.SPREAD_FROM` values
    up); a NaN fails it and is clipped as before."""
    own = _owned(values)
    if own:
        if values.shape[0] >= SPREAD_FROM and all_within(values, lo, hi):
            return values
        return _clip_ufunc(values, lo, hi, out=values)
    return np.clip(values, lo, hi)


_clip_ufunc = np._core.umath.clip
"""The ufunc that ``np.clip`` calls for a float array and two bounds (through ``ndarray.clip``
and ``numpy._core._methods._clip``, which only choose it): the same values, without two
Python-level wrappers (thousands of calls a simulation, most on a few values)."""


def all_within(values: np.ndarray, lo: float, hi: float) -> bool:
    """Whether every value of the non-empty float array lies in ``[lo, hi]`` (a NaN does not):
    one compiled pass (:func:`redline.native.within`) where available, else two reductions."""
    inside = native.within(values, lo, hi)
    if inside is None:
        return bool(np.minimum.reduce(values, axis=None) >= lo and np.maximum.reduce(values, axis=None) <= hi)
    return inside


class _Bound:
    """A lower or upper bound, given to numpy's ``maximum``/``minimum`` spread into an array of
    the values' length (:func:`redline.spread.spread`: the same bits, SIMD loops)."""

    __slots__ = ("value",)

    def __init__(self, value: float):
        self.value = float(value)

    def like(self, values):
        """The bound as an array of ``values``' length (a 1-D float array of at least
        :data:`redline.spread.SPREAD_FROM` values), else as a number."""
        return spread(self.value, values)


def _clip_by(bound_function, bound: _Bound, values) -> np.ndarray:
    """``bound_function(values, bound)``, in place when the array is its own; an array of fewer
    than :data:`redline.spread.SPREAD_FROM` values takes the number itself, as
    :meth:`_Bound.like` would give it (hundreds of such calls a week, on a few runs' values)."""
    if _owned(values):
        limit = bound.value if values.shape[0] < SPREAD_FROM else bound.like(values)
        return bound_function(values, limit, out=values)
    return bound_function(values, bound.like(values))


def _unbounded(values):
    return values


_FLOAT64 = np.dtype(np.float64)


def _owned(values) -> bool:
    """Whether ``values`` is a writable 1-D float array that may be clipped in place. The cheap
    tests come first, and the dtype is compared by identity with numpy's own float64 (every
    float64 array numpy makes holds it): an array of an equal dtype that is another object is
    clipped into a new array, which gives the same values."""
    return type(values) is np.ndarray and values.ndim == 1 and values.dtype is _FLOAT64 and values.flags.writeable


SeedLike = int | np.random.SeedSequence | np.random.Generator
"""What every ``seed`` accepts: an int, a ``SeedSequence`` or a ``Generator``."""


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Accept an int seed, a ``SeedSequence`` or a ``Generator`` (whose next draw seeds a sequence)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(0, 2**63)))
    if seed is None:
        raise ParameterError("a seed is required for reproducible runs (seed=int, SeedSequence or Generator)")
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.SeedSequence(check_seed(seed))
    raise ParameterError(f"seed must be a non-negative int, SeedSequence or Generator, not {seed!r}")


def make_setup(program: Program, *, seed: SeedLike, horizon: int | None, strategies: dict[str, str] | None,
               params: dict[str, Any] | None, runs: int | None = None,
               choosers: dict[str, Callable] | None = None) -> RunSetup:
    """Check strategies and parameters against the program and freeze a run set-up.

    A parameter value is a number (every run) or a 1-D array of ``runs`` numbers (one per run:
    e.g. particles of a posterior); every value must be finite and inside the declared range.
    ``choosers`` (actor -> function of an :class:`ExternalChoice`) gives actors an ``external``
    policy: their choices come from outside the engine (a person, an agent, a model).
    """
    horizon = check_horizon(program.horizon if horizon is None else horizon)
    parameters: dict[str, float | np.ndarray] = dict(program.parameters)
    for name, value in (params or {}).items():
        if name not in parameters:
            raise ParameterError(
                f"unknown parameter '{name}'{did_you_mean(name, parameters)} (parameters: {', '.join(sorted(parameters)) or 'none'})")
        parameters[name] = _parameter_value(program, name, value, runs)
    policies = dict(program.policies)
    chosen = {}
    for actor, name in (strategies or {}).items():
        if actor not in program.strategies:
            raise ParameterError(f"unknown actor '{actor}'{did_you_mean(actor, program.strategies)} "
                                 f"(actors: {', '.join(program.strategies)})")
        options = program.strategies[actor]
        if name not in options:
            valid = ", ".join(options) or "none"
            raise ParameterError(f"unknown strategy '{name}' for {actor}{did_you_mean(name, options)} (strategies: {valid})")
        policies[actor] = options[name]
        chosen[actor] = name
    for actor in choosers or {}:
        if actor not in program.policies:
            raise ParameterError(f"unknown actor '{actor}'{did_you_mean(actor, program.policies)} "
                                 f"(actors: {', '.join(program.policies)})")
        if actor in chosen:
            raise ParameterError(f"actor '{actor}' has both a strategy and an external seat; give one")
        policies[actor] = CompiledPolicy("external", None, {}, dict(program.actor_goals.get(actor, {})), {}, "external")
    return RunSetup(as_seed_sequence(seed), horizon, parameters, policies, chosen, choosers=dict(choosers or {}))


def _parameter_value(program: Program, name: str, value: Any, runs: int | None) -> float | np.ndarray:
    """A checked parameter value: a float, or a read-only float array of shape (runs,)."""
    lo, hi = program.parameter_ranges[name]
    if isinstance(value, (np.ndarray, list, tuple)):
        try:
            array = np.array(value, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(f"parameter {name} needs numbers, one per run") from None
        if array.ndim == 0:
            value = float(array)
        else:
            if array.ndim != 1 or runs is None or array.shape[0] != runs:
                raise ParameterError(f"parameter {name}: per-run values must be a 1-D array of length runs "
                                     f"({runs}), got shape {array.shape}")
            bad = ~np.isfinite(array) | (array < lo) | (array > hi)
            if bad.any():
                i = int(np.argmax(bad))
                raise ParameterError(f"parameter {name}: run {i} has {array[i]:g}, outside its range [{lo:g}, {hi:g}]")
            settings = program.lever_settings.get(name)
            if settings is not None:
                off = ~np.isin(array, settings)
                if off.any():
                    i = int(np.argmax(off))
                    raise ParameterError(f"lever {name}: run {i} has {array[i]:g}, not one of its settings "
                                         f"{_listed(settings)}")
            array.setflags(write=False)
            return array
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"parameter {name} needs a number, got '{value}'") from None
    if not np.isfinite(value) or not lo <= value <= hi:
        raise ParameterError(f"parameter {name}={value:g} is outside its range [{lo:g}, {hi:g}]")
    settings = program.lever_settings.get(name)
    if settings is not None and value not in settings:
        nearest = min(settings, key=lambda v: abs(v - value))
        raise ParameterError(f"lever {name}={value:g} is not one of its settings {_listed(settings)} "
                             f"(its `values` make it a discrete choice; did you mean {nearest:g}?)")
    return value


def _listed(settings: tuple[float, ...]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in settings) + "]"


def block_parameters(setup: RunSetup, block: int, runs: int) -> dict[str, float | np.ndarray]:
    """The parameter values of one block: per-run arrays cut to the block's runs (copied)."""
    start = block * BLOCK_RUNS
    return {name: value[start:start + runs].copy() if isinstance(value, np.ndarray) else value
            for name, value in setup.parameters.items()}


def run_parameters(setup: RunSetup) -> dict[str, np.ndarray]:
    """The parameters that vary by run (name -> array of shape (runs,))."""
    return {name: value for name, value in setup.parameters.items() if isinstance(value, np.ndarray)}


def assemble(blocks: list[dict], program: Program, setup: RunSetup, *, scenario_id: str, sha256: str,
             engine: str, started: float, trajectories: bool) -> xr.Dataset:
    """Concatenate block results into one Dataset with provenance attrs."""
    def cat(key, axis=-1):
        return np.concatenate([b[key] for b in blocks], axis=axis)

    runs = sum(b["stopped_week"].shape[0] for b in blocks)
    outcome_week = cat("outcome_week")
    data = {
        "final_state": (("variable", "run"), cat("final_state")),
        "outcome_week": (("outcome", "run"), outcome_week),
        "outcome_occurred": (("outcome", "run"), ~np.isnan(outcome_week)),
        "red_line_week": (("red_line", "run"), cat("red_line_week")),
        "red_line_enforced": (("red_line", "run"), cat("red_line_enforced")),
        "red_line_firings": (("red_line", "run"), cat("red_line_firings")),
        "action_count": (("action", "run"), cat("action_count")),
        "stopped_week": (("run",), cat("stopped_week")),
        "failed": (("run",), cat("failed")),
    }
    coords = {
        "run": np.arange(runs),
        "variable": list(program.variables),
        "outcome": [o.id for o in program.outcomes],
        "red_line": [r.id for r in program.red_lines],
        "action": list(program.actions),
    }
    if program.regimes:
        data["regime_week"] = (("regime", "run"), cat("regime_week"))
        data["regime_weeks"] = (("regime", "run"), cat("regime_weeks"))
        coords["regime"] = [g.id for g in program.regimes]
    if blocks and blocks[0]["option_count"].shape[0]:
        data["option_count"] = (("option", "run"), cat("option_count"))
        coords["option"] = [f"{a.id}.{lv}" for a in program.actions.values() for lv in a.levels]
    if setup.probes:
        data["probe_value"] = (("probe", "run"), cat("probe"))
        coords["probe"] = [name for name, _, _ in setup.probes]
        attrs_probe_weeks = {name: week for name, _, week in setup.probes}
    per_run = run_parameters(setup)
    if per_run:
        values = [block_parameters(setup, b["block"], b["stopped_week"].shape[0]) for b in blocks]
        data["parameter_value"] = (("parameter", "run"), np.stack([np.concatenate([v[k] for v in values]) for k in per_run]))
        coords["parameter"] = list(per_run)
    if trajectories:
        data["trajectory"] = (("week", "variable", "run"), np.concatenate([b["trajectory"] for b in blocks], axis=2))
        coords["week"] = np.arange(1, setup.horizon + 1)
    ss = setup.seed_sequence
    attrs = {
        "scenario": scenario_id,
        "scenario_sha256": sha256,
        "version": __version__,
        "engine": engine,
        "seed": int(ss.entropy) if isinstance(ss.entropy, int) else json.dumps(ss.entropy),
        "spawn_key": json.dumps(list(ss.spawn_key)),
        "block_runs": BLOCK_RUNS,
        "runs": runs,
        "horizon": setup.horizon,
        "as_of": program.as_of.isoformat(),
        "strategies": json.dumps(setup.strategies, sort_keys=True),
        "policies": json.dumps({a: p.name for a, p in setup.policies.items()}, sort_keys=True),
        "params": json.dumps({k: _describe_parameter(v) for k, v in setup.parameters.items()}, sort_keys=True),
        "wall_time_s": time.perf_counter() - started,
    }
    if setup.probes:
        attrs["probe_weeks"] = json.dumps(attrs_probe_weeks)
    clipped: dict[str, int] = {}
    for b in blocks:
        for site, k in (b.get("clipped") or {}).items():
            clipped[site] = clipped.get(site, 0) + int(k)
    # run-weeks in which a probability expression left [0, 1] and was clipped, by its site
    attrs["clipped_probabilities"] = json.dumps(dict(sorted(clipped.items())))
    failed = data["failed"][1]
    if failed.any():
        attrs["failure"] = describe_failure(program, data["final_state"][1], failed, data["stopped_week"][1])
    dated = {o.id: o.week for o in program.outcomes if o.week is not None}
    if dated:
        attrs["outcome_on_weeks"] = json.dumps(dated)
    return xr.Dataset(data, coords=coords, attrs=attrs)


def memory_parts(program: Program, setup: RunSetup, runs: int, trajectories: bool, *,
                 span: int = 1) -> dict[str, float]:
    """Bytes a run will hold at its peak, by part, estimated before anything is allocated.

    Windows (``last=N``) keep N weeks per run in every working set (``span`` blocks simulated
    together); attribution keeps a ring buffer of up to ``MAX_DELAY`` weeks per attributed effect
    (it grows to the longest delay drawn: the estimate takes the most it can grow to);
    trajectories keep every week of every variable of every run (twice while the blocks are
    joined).
    """
    block = min(runs, BLOCK_RUNS * span)
    window_weeks = sum(e.window_weeks for e in program.expressions())
    window_weeks += sum(e.window_weeks for _, e, _ in setup.probes or ())
    attributed = sum(e.attributed is not None for a in program.actions.values() for e in a.effects)
    n_vars, n_out, n_red, n_act = (len(program.variables), len(program.outcomes), len(program.red_lines),
                                   len(program.actions))
    return {
        "windows": 8.0 * window_weeks * block,
        "attribution": 8.0 * MAX_DELAY * attributed * block,
        "working state": 8.0 * 6 * (n_vars + n_out + n_red + n_act + len(program.attributes)) * block,
        "results": 8.0 * (n_vars + 2 * n_out + 2 * n_red + n_act + 4 + len(setup.probes or ())) * runs * 2,
        "trajectories": 8.0 * 2 * setup.horizon * n_vars * runs if trajectories else 0.0,
    }


def block_spans(program: Program, setup: RunSetup, runs: int, trajectories: bool, budget: int) -> list[tuple[int, int]]:
    """The vectorised engine's working sets: (first block, number of blocks) for consecutive
    blocks simulated together, as many as keep the estimated working memory within
    :data:`SPAN_BYTES` and the whole run within ``budget``, split evenly. A run's numbers do
    not depend on the split (see :class:`block_streams`): spans only save the fixed cost of
    each simulated week."""
    n_blocks = -(-runs // BLOCK_RUNS)

    def fits(span: int) -> bool:
        parts = memory_parts(program, setup, runs, trajectories, span=span)
        working = parts["windows"] + parts["attribution"] + parts["working state"]
        return working <= SPAN_BYTES and sum(parts.values()) <= budget

    widest = 1
    while widest < n_blocks and fits(widest + 1):
        widest += 1
    n_spans = -(-n_blocks // widest)
    sizes = [n_blocks // n_spans + (k < n_blocks % n_spans) for k in range(n_spans)]
    firsts = np.cumsum([0] + sizes[:-1])
    return [(int(first), size) for first, size in zip(firsts, sizes)]


def writers(program: Program, var: str) -> list[str]:
    """Where ``var`` is written: ``'place: expression'`` for each effect, process update and decision."""
    found = []
    for aid, action in program.actions.items():
        for k, eff in enumerate(action.effects):
            if eff.var == var or eff.attributed == var:
                found.append(f"actions.{aid}.effects[{k}]: '{eff.value.text}'")
    for proc in program.processes:
        for pvar, _, e in proc.updates:
            if pvar == var:
                found.append(f"processes.{proc.id}: '{e.text}'")
    for d in program.decisions:
        if d.target == var:
            found.append(f"decisions.{d.id} (model {d.model})")
    if var in program.initial and not found:
        found.append(f"state.{var}.initial: '{program.initial[var].text}'")
    return found


def describe_failure(program: Program, final_state: np.ndarray, failed: np.ndarray, stopped: np.ndarray) -> str:
    """One line saying how many runs went non-finite, from which week, in which variable and
    which expressions write it (the engines stop a run whose state is no longer finite)."""
    n_failed = int(failed.sum())
    bad = ~np.isfinite(final_state[:, failed])  # (variable, failed run)
    per_var = bad.sum(axis=1)
    order = np.argsort(-per_var, kind="stable")
    var = program.variables[int(order[0])] if per_var.size and per_var[order[0]] else None
    weeks = stopped[failed]
    week = int(np.nanmin(weeks)) if np.isfinite(weeks).any() else 0
    head = f"{n_failed} of {failed.size} run(s) failed (a state value became non-finite, first in week {week}"
    if var is None:
        return head + ")"
    written = writers(program, var)
    return (head + f"; '{var}' in {int(per_var[order[0]])} of them; written by "
            + ("; ".join(written[:4]) + (f"; and {len(written) - 4} more" if len(written) > 4 else "")
               if written else "no expression") + ")")


def _describe_parameter(value: float | np.ndarray) -> float | dict:
    """A parameter for the result's attrs: its value, or a summary of its per-run values."""
    if isinstance(value, np.ndarray):
        return {"per_run": True, "mean": float(value.mean()), "min": float(value.min()), "max": float(value.max())}
    return value
