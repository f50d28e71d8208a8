"""Anticipation of red-line responses by a quantal-response chooser (depth one).

A ``logit`` actor weighs each option *a* by U(a), the change in its goal value from a's expected
one-step effects (McKelvey & Palfrey 1995). Without anticipation it does not see that *a* may
trip another actor's red line this week, so a declared red line cannot deter it. With
anticipation (``policy: {kind: logit, anticipate: true}``, the default) the utility becomes

    U(a) + Σ_r  c_r · (T_r(a) − T_r(∅)) · Σ_k π_r(k) · G(k)

where, for each red line *r*:

* ``T_r(a)`` is whether r's condition holds on the state *after* a's expected effects (from the
  start-of-week state, with a counted as taken this week and window functions folding this week's
  value in without storing it). A covert act reaches the ``attributed:`` variables only if it is
  attributed this week: T_r(a) = q·T_r(a, attributed) + (1 − q)·T_r(a, not attributed), with q the
  attribution probability when the expected delay rounds to zero weeks and 0 otherwise;
* ``T_r(∅)`` is the same on the state where the actor does nothing, so only what *a itself* trips
  counts (U(∅) = 0 stays the reference);
* ``c_r`` is r's credibility, 0 when r cannot fire (``once`` and already fired, or resting);
* ``π_r(k)`` is the probability that r's owner answers with response *k* (its own policy over the
  list: logit over the owner's utilities of the responses, scripted probabilities renormalised);
* ``G(k)`` is response k's expected effects weighed by the *chooser's* goals.

This is one step of agent quantal response (McKelvey & Palfrey 1998, Experimental Economics 1:9-41,
doi:10.1023/A:1009905800005): each agent best-responds noisily to the other agents' (here the red
line owners') behaviour, and the chooser models the owner as a level-0 responder who does not
itself look further ahead — the level-1 reasoning of Stahl & Wilson (1995, Games and Economic
Behavior 10:218-254, doi:10.1006/game.1995.1031).

Deeper look-ahead (not implemented; depth one is what the scenario format promises) would recurse:
at depth d, π_r(k) would use the owner's utilities *with* anticipation of depth d − 1 (the
responses that k itself trips, and so on), and T_r would be evaluated on the state after the
processes as well as after the action. Each level multiplies the cost by the number of red lines
reachable from a response, and a cycle of red lines answering each other bounds it naturally by
the per-week rule that a red line fires at most once a week; a level-k chooser with k = 2 would
therefore cost roughly (1 + red lines per response) times the depth-one price.

Limitations of depth one, stated in docs/scenarios.md: the post-action state does not run this
week's processes, so a red line that reads a variable only processes update (e.g. a running total
fed from a weekly flow) is tripped in the look-ahead only through the variables the action itself
changes.
"""
from __future__ import annotations

from redline.scenario.compile import Program

__all__ = ["relevant_red_lines", "seen_effects", "touched_names"]


def touched_names(program: Program, aid: str) -> frozenset[str]:
    """Names whose value ``aid`` changes this week: its effects' variables, attributed records
    and the action's own indicator."""
    action = program.actions[aid]
    names = {aid}
    for eff in action.effects:
        names.add(eff.var)
        if eff.attributed is not None:
            names.add(eff.attributed)
    return frozenset(names)


def relevant_red_lines(program: Program) -> dict[str, tuple[int, ...]]:
    """Action id -> indices of the red lines whose condition reads something the action changes.

    Only these can be tripped differently by taking the action than by doing nothing, so only
    these are evaluated in the look-ahead.
    """
    relevant = {}
    for aid in program.actions:
        touched = touched_names(program, aid)
        relevant[aid] = tuple(i for i, rl in enumerate(program.red_lines) if rl.condition.names & touched)
    return relevant


def seen_effects(program: Program, relevant: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    """Action id -> indices of the effects the look-ahead evaluates: those whose variable or
    attributed record the condition of one of its ``relevant`` red lines reads (the state after
    the action differs from the state without it in what a condition sees only through these),
    and those that draw or keep windows (their streams and windows move as they always have)."""
    seen = {}
    for aid, action in program.actions.items():
        names = frozenset().union(*(program.red_lines[i].condition.names for i in relevant[aid]))
        seen[aid] = tuple(k for k, eff in enumerate(action.effects)
                          if eff.var in names or eff.attributed in names or eff.value.stateful)
    return seen
