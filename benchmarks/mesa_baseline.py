"""The ``proxy-deterrence`` scenario written by hand in Mesa 3, the standard Python ABM framework.

This is what a modeller would otherwise write: one ``mesa.Model`` per run, one agent per actor,
a weekly ``step``. It mirrors ``src/redline/scenarios/proxy-deterrence.yaml`` and the escalation
engine's weekly order (choose from the start-of-week state, act, attributions land, processes in
order, red lines with their graded response, the war regime, outcomes; absorbing outcomes end
the run) at the scenario's default parameters, with the challenger on its default ``deniable``
strategy (or ``loud``). The host parliament's monthly bargaining (a collective decision) is not
mirrored; ``benchmarks/experiments.py`` compares against the scenario without it.

Run it alone (``python benchmarks/mesa_baseline.py``) or through ``benchmarks/experiments.py``,
which times it against redline and checks both give the same outcome probabilities.
"""
from __future__ import annotations

import math
from collections import deque

import mesa
import numpy as np

HORIZON = 104
MAX_DELAY = 64
DEFAULTS = {"attribution_probability": 0.3, "casualty_sensitivity": 0.004, "defender_credibility": 0.8,
            "withdrawal_inclination": 0.5}
RATIONALITY = 2.0  # the defender's quantal response
GOALS = {"tension": -0.01}  # the defender's goal weights that its responses' effects touch
RESPONSES = {  # graded response to the red line: effects (tension, public support, challenger losses)
    "warning_strike": (10.0, 0.01, 1.0),
    "retaliate": (30.0, 0.02, 10.0),
}


def _response_shares() -> dict[str, float]:
    """The defender's quantal response over its graded responses (one is always chosen):
    P(k) ∝ exp(λ U(k)) with U the goal change of k's effects (McKelvey & Palfrey 1995)."""
    scores = {k: RATIONALITY * GOALS["tension"] * tension for k, (tension, _, _) in RESPONSES.items()}
    top = max(scores.values())
    weights = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}


SHARES = _response_shares()


class Challenger(mesa.Agent):
    """Scripted: a proxy attack (deniable) or an overt strike (loud) with probability 0.3 a week."""

    def __init__(self, model, strategy: str):
        super().__init__(model)
        self.strategy = strategy

    def choose(self) -> str | None:
        return ("proxy_attack" if self.strategy == "deniable" else "overt_strike") if self.model.rng.random() < 0.3 else None


class Defender(mesa.Agent):
    """Quantal response (rationality 2) over draw_down, available when support < 0.5; answers
    the red line with a warning or a punitive strike."""

    def choose(self) -> str | None:
        m = self.model
        if not m.public_support < 0.5:
            return None
        utility = m.p["withdrawal_inclination"] * (0.5 - m.public_support) * 4  # goals weigh no draw_down effect
        p = 1.0 / (1.0 + math.exp(-RATIONALITY * utility))
        return "draw_down" if m.rng.random() < p else None

    def respond(self) -> str:
        return "warning_strike" if self.model.rng.random() < SHARES["warning_strike"] else "retaliate"


class Electorate(mesa.Agent):
    """Support falls with deaths and relaxes towards 0.55; each attack in the last month costs 0.2 pt."""

    def update(self, casualties: float, attacks_last4: float) -> None:
        m = self.model
        m.public_support = min(1.0, max(0.0, m.public_support - m.p["casualty_sensitivity"] * casualties))
        m.public_support = min(1.0, max(0.0, m.public_support + 0.02 * (0.55 - m.public_support) - 0.002 * attacks_last4))


class ProxyDeterrence(mesa.Model):
    """One run of the scenario."""

    def __init__(self, seed: int, strategy: str = "deniable", params: dict | None = None):
        super().__init__(seed=seed)
        self.rng = np.random.default_rng(seed)
        self.p = {**DEFAULTS, **(params or {})}
        self.challenger = Challenger(self, strategy)
        self.defender = Defender(self)
        self.electorate = Electorate(self)
        self.presence = 1000.0
        self.public_support = self.rng.uniform(0.5, 0.6)
        self.tension = 10.0
        self.war = False
        self.attributed_casualties = 0.0
        self.pending: dict[int, list[tuple[float, float]]] = {}
        self.attacks_window = deque(maxlen=4)   # count(proxy_attack or overt_strike, last=4)
        self.attributed_window = deque(maxlen=8)  # sum(attacks_attributed_week, last=8)
        self.last_fired: int | None = None  # the red line rests a week after it fires
        self.week = 0
        self.outcome_week = {"defender_leaves": None, "open_war": None, "retaliation": None, "punished": None}
        self.running = True

    def step(self) -> None:
        self.week += 1
        w = self.week
        casualties, attributed_attacks = 0.0, 0.0
        c_move, d_move = self.challenger.choose(), self.defender.choose()
        tension_add, presence_add = 0.0, 0.0
        if c_move == "proxy_attack":
            deaths = float(self.rng.poisson(0.3))
            casualties += deaths
            tension_add += 2
            if self.rng.random() < self.p["attribution_probability"]:
                delay = int(min(max(round(self.rng.poisson(2)), 0), MAX_DELAY - 1))
                if delay == 0:
                    self.attributed_casualties += deaths
                    attributed_attacks += 1
                else:
                    self.pending.setdefault(w + delay, []).append((deaths, 1.0))
        elif c_move == "overt_strike":
            deaths = float(self.rng.poisson(1.0))
            casualties += deaths
            tension_add += 15
            self.attributed_casualties += deaths
            attributed_attacks += 1
        if d_move == "draw_down":
            presence_add -= 100
        self.tension = min(100.0, self.tension + tension_add)
        self.presence = max(0.0, self.presence + presence_add)
        for deaths, attacks in self.pending.pop(w, ()):
            self.attributed_casualties += deaths
            attributed_attacks += attacks
        # processes, in the scenario's order: war fighting, casualty aversion and recovery, decay
        if self.war:
            casualties += float(self.rng.poisson(0.5))
            self.tension = min(100.0, self.tension + 8)
        self.attacks_window.append(1.0 if c_move else 0.0)
        self.electorate.update(casualties, sum(self.attacks_window))
        self.tension *= 0.9
        # the red line: a newly attributed attack making two within eight weeks; rests a week
        self.attributed_window.append(attributed_attacks)
        resting = self.last_fired is not None and w - self.last_fired <= 1
        if attributed_attacks > 0 and sum(self.attributed_window) >= 2 and not resting:
            self.last_fired = w
            if self.rng.random() < self.p["defender_credibility"]:
                response = self.defender.respond()
                tension, support, _ = RESPONSES[response]
                self.tension = min(100.0, self.tension + tension)
                self.public_support = min(1.0, self.public_support + support)
                if self.outcome_week["retaliation"] is None:
                    self.outcome_week["retaliation"] = w
                if response == "retaliate" and self.outcome_week["punished"] is None:
                    self.outcome_week["punished"] = w
        # the war regime (Hamilton 1989 switching): entered and left with weekly hazards
        draw = self.rng.random()
        if self.war:
            self.war = not draw < (0.25 if self.tension < 60 else 0.04)
        else:
            self.war = draw < min(max((self.tension - 60) / 100, 0.0), 1.0)
        if self.war and self.outcome_week["open_war"] is None:
            self.outcome_week["open_war"] = w
        if self.presence <= 0 and self.outcome_week["defender_leaves"] is None:
            self.outcome_week["defender_leaves"] = w
            self.running = False


def simulate(runs: int, seed: int = 0, strategy: str = "deniable", horizon: int = HORIZON) -> dict[str, float]:
    """Outcome probabilities over ``runs`` Mesa runs."""
    hits = {"defender_leaves": 0, "open_war": 0, "retaliation": 0, "punished": 0}
    for r in range(runs):
        model = ProxyDeterrence(seed=seed * 1_000_003 + r, strategy=strategy)
        while model.running and model.week < horizon:
            model.step()
        for k, v in model.outcome_week.items():
            hits[k] += v is not None
    return {k: v / runs for k, v in hits.items()}


if __name__ == "__main__":
    import time

    t = time.perf_counter()
    probs = simulate(2000)
    print(f"mesa {mesa.__version__}: {2000 / (time.perf_counter() - t):,.0f} runs/s", probs)
