"""What the vectorised engine reads every week about an action or a track, decided once per block
(:class:`redline.escalation.engine._Block`): so that a week reads no attribute or name twice."""
from __future__ import annotations

from redline.scenario.compile import CompiledAction, CompiledPolicy, Program, option_id

__all__ = ["ActionPlan", "IdleCost", "TrackPlan"]


class IdleCost:
    """What an action that no run took this week must still do, decided once per block: the
    expressions whose random call sites or windows must move on (as an evaluation for no run
    would, see :meth:`_Block.pass_idle`) and, for a covert act, the attribution draw's site."""

    __slots__ = ("expressions", "attribution_site")

    def __init__(self, action: CompiledAction):
        moving = [eff.value for eff in action.effects]
        self.attribution_site = None
        if action.covert:  # as :meth:`_Block.attribute` evaluates them
            moving.append(action.attribution_probability)
            if any(eff.attributed is not None for eff in action.effects):
                moving.append(action.attribution_delay)
            self.attribution_site = f"attribution:{action.id}"
        self.expressions = tuple(e for e in moving if e.stateful)

    @property
    def free(self) -> bool:
        """Whether the action costs nothing in a week when no run takes it."""
        return not self.expressions and self.attribution_site is None


class ActionPlan:
    """One action as :meth:`_Block.apply_actions` reads it (up to 26 times a week, from the
    week's choices, red-line responses and their look-ahead), decided once per block so that a
    week reads no attribute or name twice.

    ``position``: the action's place in the program (effects apply in that order, whatever the
    order of the caller's dict); ``effects``: (variable, op, value, the number written or None);
    ``attributed``: the positions in ``effects`` of the effects with an attributed record, and
    those records; ``idle``: what a week in which no run takes the action must still do
    (:class:`IdleCost`), None when nothing; ``attribution_site``: a covert act's draw site;
    ``attributes``: whether :meth:`_Block.attribute` has anything to do (a covert act draws, an
    overt one's attributed records take its amounts).
    """

    __slots__ = ("action", "position", "effects", "attributed", "idle", "attribution_site", "attributes")

    def __init__(self, action: CompiledAction, position: int):
        self.action = action
        self.position = position
        self.effects = tuple((eff.var, eff.op, eff.value, eff.value.constant) for eff in action.effects)
        self.attributed = tuple((k, eff.attributed) for k, eff in enumerate(action.effects)
                                if eff.attributed is not None)
        idle = IdleCost(action)
        self.idle = None if idle.free else idle
        self.attribution_site = idle.attribution_site
        self.attributes = action.covert or bool(self.attributed)


class TrackPlan:
    """One actor's track, as :meth:`_Block.choose` reads it every week, decided once per block.

    An option can weigh something only if its action is not unavailable for good (availability
    the constant ``false`` or 0) and, under a scripted policy, its probability is not missing or
    the number 0: every other option gets weight 0 in every run and week, whatever the state,
    so the week's choice reads neither its weight nor its availability (a weight of 0 is an
    empty interval of the uniform: never chosen). What such options still evaluate is what
    draws or keeps windows (streams stay aligned, windows current).

    ``key``: (actor, track), as scheduled options are keyed; ``weighed``: the options that can
    weigh something, in order (every option under an external policy: the seat is asked about
    all of them); ``probabilities``: a scripted policy's probability of each of them; ``read``:
    the actions whose availability is evaluated every week; ``moving``: probabilities evaluated
    only to keep them current; ``never_chosen``: whether no option can ever be chosen;
    ``level_arrays``: the actions with levels whose level array the week's choice fills even
    when no run takes them (as it always has); ``leveled``: whether some action has levels.
    """

    __slots__ = ("track", "key", "action_ids", "options", "site", "weighed", "probabilities", "read", "moving",
                 "never_chosen", "level_arrays", "leveled")

    def __init__(self, program: Program, policy: CompiledPolicy, actor: str, track: str, action_ids):
        self.track = track
        self.key = (actor, track)
        self.action_ids = list(action_ids)
        self.options = program.options(action_ids)
        self.site = f"choice:{actor}:{track}"
        actions = program.actions
        probability = {option: policy.probabilities.get(option_id(actions[option[0]], option[1]))
                       for option in self.options}
        scripted = policy.kind == "scripted"

        def may_weigh(option) -> bool:
            available = actions[option[0]].available
            if available is not None and available.fixed is not None and available.fixed == 0:
                return False  # never available
            e = probability[option]
            return not scripted or (e is not None and e.constant != 0)

        external = policy.kind == "external"
        self.weighed = list(self.options) if external else [o for o in self.options if may_weigh(o)]
        self.probabilities = [probability[o] for o in self.weighed] if scripted else []
        weighed_ids = {aid for aid, _ in self.weighed}
        self.read = [aid for aid in self.action_ids
                     if aid in weighed_ids or (actions[aid].available is not None and actions[aid].available.stateful)]
        self.moving = [e for o, e in probability.items()
                       if scripted and o not in self.weighed and e is not None and e.stateful]
        self.never_chosen = not self.weighed
        # A track whose every availability is the written number 0 gets no level arrays; any other
        # gets them even in weeks no run takes its actions (an idle action's expressions then read
        # its level per run rather than as one number: the same values; kept so no number moves).
        skipped_before = not external and all(
            actions[aid].available is not None and actions[aid].available.constant == 0 for aid in self.action_ids) and \
            all(e is None or not e.stateful for e in probability.values())
        self.level_arrays = [] if skipped_before else [aid for aid in self.action_ids if actions[aid].levels]
        self.leveled = any(actions[aid].levels for aid in self.action_ids)
