"""Attributed amounts that wait for their week: the vectorised engine's ring buffer.

A covert act is attributed to its author after a delay (Baliga, Bueno de Mesquita & Wolitzky
2020); until then its attributed effects wait here, one slot per week they fall due in, each slot
holding one amount per attributed effect and run. A slot is delivered and emptied in its week and
then serves the week ``size`` weeks later.

The ring starts with a few slots and doubles (up to :data:`~redline.escalation.common.MAX_DELAY`)
when a longer delay arrives: delays are mostly short draws (a Poisson mean of weeks), and a ring
as long as the longest possible delay is mostly memory that is never written (its first touch
costs page faults, and every slot is cut at a compaction). The slot a week uses depends on the
size, but what a slot holds does not: the amounts queued for a week are added in the same order,
from the same zeros, so delivered values keep their bits whatever the ring's size.
"""
from __future__ import annotations

import numpy as np

from redline.escalation.common import MAX_DELAY

__all__ = ["PendingRing"]

FIRST_SLOTS = 8
"""Slots of a new ring (delays up to 7 weeks before it grows)."""


class PendingRing:
    """The attributed amounts of one action waiting for delivery: ``buf`` is (slots, effects,
    runs), slot ``week % size`` holding what falls due in ``week``; ``filled[slot]`` says whether
    anything was queued there since it was last delivered (if not, it holds only zeros)."""

    def __init__(self, effects: int, runs: int, slots: int = FIRST_SLOTS):
        self.buf = np.zeros((slots, effects, runs))
        self.filled = np.zeros(slots, dtype=bool)

    @property
    def size(self) -> int:
        """The longest delay the ring holds is ``size - 1`` weeks."""
        return self.buf.shape[0]

    def queue(self, week: int, delay: np.ndarray, runs: np.ndarray, amounts: list) -> None:
        """Add ``amounts`` (one per effect: a number or one value per run) for the runs ``runs``
        (distinct working positions) in week ``week + delay``. ``delay``: whole numbers from 1 to
        ``size - 1`` (floats; :meth:`grow` makes room for longer ones first)."""
        slots = (week + delay.astype(int)) % self.size
        self.filled[slots] = True
        # One slot per run, so no index repeats: np.add.at adds each amount once, as += would,
        # in one pass (+= reads, then writes); positions in the flattened (slot, effect, run)
        # buffer take one index array instead of three.
        buf = self.buf
        first = slots * (buf.shape[1] * buf.shape[2]) + runs
        flat = buf.reshape(-1)
        for k, amount in enumerate(amounts):
            np.add.at(flat, first + k * buf.shape[2], amount)

    def grow(self, week: int, needed: int) -> None:
        """Make room for delays up to ``needed - 1`` weeks in week ``week`` (nothing to do if the
        ring holds them): the smallest power of two of slots that holds them (at most
        ``MAX_DELAY``), each waiting slot moved to its due week's new place. A slot filled in week
        ``week`` falls due in one of the weeks ``week`` to ``week + size - 1`` (this week's slot is
        delivered after this week's acts are queued)."""
        size = self.size
        new_size = size
        while new_size < needed:
            new_size *= 2
        new_size = min(new_size, MAX_DELAY)
        if new_size == size:
            return
        buf = np.zeros((new_size,) + self.buf.shape[1:])
        filled = np.zeros(new_size, dtype=bool)
        for slot in self.filled.nonzero()[0]:
            due = week + (int(slot) - week) % size
            buf[due % new_size] = self.buf[slot]
            filled[due % new_size] = True
        self.buf, self.filled = buf, filled

    def due(self, week: int) -> np.ndarray | None:
        """The amounts falling due in ``week`` (effects, runs): a view into the ring, which the
        caller reads and then fills with zeros (the slot serves again ``size`` weeks later); None
        when nothing was queued for it (all zeros)."""
        slot = week % self.size
        if not self.filled[slot]:
            return None
        self.filled[slot] = False
        return self.buf[slot]

    def take(self, kept: np.ndarray) -> None:
        """Keep the runs at positions ``kept`` (a compaction): ``buf.take(kept, axis=2)``, with
        only the filled slots cut (the others hold zeros and start again as zeros)."""
        out = np.zeros(self.buf.shape[:2] + (kept.size,))
        for slot in self.filled.nonzero()[0]:
            out[slot] = self.buf[slot].take(kept, axis=-1)
        self.buf = out
