"""Forecast dated questions by simulating the scenario and evaluating each predicate in the loop.

Each question becomes an engine probe (``redline.escalation.run(..., probes=...)``): its predicate
is evaluated inside the simulation every week, so ``ever(...)``, windows, outcome flags and action
indicators mean exactly what they mean in the scenario, and its value is recorded at the week that
holds the close date. A close date past the scenario's horizon extends the simulation. A question
resolves true in a run when the predicate's value there is non-zero.

Forecasts use only the scenario, which encodes what was known at its ``as_of`` date; a question's
recorded outcome is never read here.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from redline import escalation
from redline.results import wilson_interval
from redline.results.summary import check_failures, frozen_runs
from redline.errors import ScenarioError
from redline.limits import MAX_HORIZON
from redline.forecast.questions import LocatedQuestion, check_predicates, close_week
from redline.scenario import LoadedScenario

__all__ = ["QuestionForecast", "ForecastResult", "forecast", "MAX_WEEK", "DEFAULT_RUNS"]

MAX_WEEK = MAX_HORIZON
"""The engine simulates at most :data:`redline.limits.MAX_HORIZON` weeks (20 years) from ``as_of``."""

DEFAULT_RUNS = 10_000


@dataclass
class QuestionForecast:
    """One question's forecast.

    ``status`` is ``"forecast"`` (simulated) or ``"closed_before_as_of"`` (its close date is before
    the scenario's ``as_of``: the scenario already knows the answer, so it is neither forecast nor
    scored). ``probability`` is the share of runs where the predicate is non-zero at ``close_week``,
    ``ci95`` its Wilson interval (Monte-Carlo error only), ``runs`` the runs counted (failed runs and
    runs where the predicate is undefined (NaN) are left out and counted separately).
    """

    id: str
    question: str
    open_date: dt.date
    close_date: dt.date
    close_week: int | None
    status: str
    probability: float | None
    ci95: list[float] | None
    runs: int
    hits: int
    undefined_runs: int
    outcome: bool | None
    public_forecast: float | None
    predicate: str
    notes: list[str] = field(default_factory=list)
    frozen_runs: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["open_date"] = self.open_date.isoformat()
        d["close_date"] = self.close_date.isoformat()
        return d


@dataclass
class ForecastResult:
    """Forecasts of a question set on one scenario, with what they were conditioned on."""

    scenario: str
    scenario_sha256: str
    as_of: dt.date
    runs: int
    failed_runs: int
    seed: int
    horizon: int
    policies: dict[str, dict[str, Any]]
    notes: list[str]
    questions: list[QuestionForecast]
    frozen_runs: int = 0
    posterior: dict[str, Any] | None = None
    record: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        extra = {k: v for k, v in (("posterior", self.posterior), ("record", self.record)) if v is not None}
        return {
            **extra,
            "scenario": self.scenario,
            "scenario_sha256": self.scenario_sha256,
            "as_of": self.as_of.isoformat(),
            "runs": self.runs,
            "failed_runs": self.failed_runs,
            "frozen_runs": self.frozen_runs,
            "seed": self.seed,
            "horizon_weeks": self.horizon,
            "policies": self.policies,
            "notes": self.notes,
            "questions": [q.to_dict() for q in self.questions],
        }


def _policies(loaded: LoadedScenario, chosen: dict[str, str], fixed: dict[str, str]) -> tuple[dict, list[str]]:
    """Per actor: the policy in force, its kind, and whether ``--strategy`` fixed it."""
    program = loaded.program
    info, notes = {}, []
    for actor, name in chosen.items():
        policy = program.policy_for(actor, fixed.get(actor))
        acts = any(program.tracks.get(actor, {}).values())
        info[actor] = {"policy": name, "kind": policy.kind, "fixed_by_strategy": actor in fixed}
        if policy.kind == "logit" and acts:
            options = sorted(set(program.strategies.get(actor, {})) - {name})
            note = f"{actor}'s choices are left to the model (logit quantal response, policy '{name}')"
            if options:
                note += f"; --strategy {actor}=NAME fixes them ({', '.join(options)})"
            notes.append(note)
        elif actor not in fixed and acts and len(program.strategies.get(actor, {})) > 1:
            others = sorted(set(program.strategies[actor]) - {name})
            notes.append(f"{actor} follows its default {'strategy' if name != 'default' else 'policy'} '{name}' "
                         f"({policy.kind}); forecasts depend on it: --strategy {actor}=NAME for "
                         f"{', '.join(others)}")
    return info, notes


def forecast(
    loaded: LoadedScenario,
    questions: list[LocatedQuestion],
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    strategies: dict[str, str] | None = None,
    params: dict[str, float] | None = None,
    posterior=None,
    record=None,
    facts=None,
) -> ForecastResult:
    """Probability of every question from ``runs`` simulated futures of ``loaded``.

    Parameters
    ----------
    loaded:
        the scenario.
    questions:
        validated questions (:func:`~redline.forecast.load_questions` or
        :func:`~redline.forecast.questions_from_scenario`).
    runs, seed:
        number of futures and the seed of the experiment's ``SeedSequence``; the same seed gives the
        same probabilities, and each question's probability does not depend on which other
        questions are asked (probes do not draw from the simulation's random streams).
    strategies:
        actor -> strategy name (``--strategy``), overriding the actor's default policy.
    params:
        uncertainty or lever -> value (pinned: wins over ``posterior``).
    posterior:
        a :class:`~redline.calibrate.Posterior`: each run's calibrated parameters are drawn from it.
    record:
        a :class:`~redline.calibrate.Record`: forecast from its origin with only the runs
        consistent with it. Each run draws its uncertainties from their priors (uniform on their
        ranges; ``params`` still pin) and is weighted by the record's likelihood given its simulated
        history up to the origin (exact observations must match; noisy ones weigh by their
        Gaussian density): one update of a bootstrap particle filter (Gordon, Salmond & Smith 1993,
        IEE Proc. F 140:107, doi:10.1049/ip-f-2.1993.0015). The record's events are forced in every
        run. A question that opens before the origin is refused; intervals use the weights'
        effective sample size. Parameters and state are then conditioned on the record together;
        a ``posterior`` fitted to an earlier record may supply the parameters instead, but not one
        fitted to this record (that would count it twice).
    facts:
        a :class:`~redline.calibrate.Record` whose *exact* observations (those without ``sd``:
        facts it states as certain, such as "no US service member was killed in 2019") filter the
        runs: only runs that reproduce all of them are counted (rejection, the exact-match limit of
        the update above). This lets a scenario that starts before its record's origin forecast
        from its calibrated posterior and from a past that agrees with the record's hard facts; the
        facts then weigh twice on the parameters (once in the fit, once here), which only narrows
        them towards what the record states as certain. Noisy observations are left to the fit.

    Raises
    ------
    ExpressionError
        a predicate naming something the scenario does not define, at the predicate's
        file:line:col with the nearest known name.
    ScenarioError
        a close date more than :data:`MAX_WEEK` weeks after ``as_of``.
    """
    strategies = dict(strategies or {})
    check_predicates(loaded, questions)
    as_of = loaded.spec.meta.as_of
    simulated = loaded
    if record is not None:
        from redline.calibrate import scenario_with_record

        for q in questions:
            if q.spec.open_date < record.origin:
                raise ScenarioError(f"question '{q.id}' opens {q.spec.open_date}, before the record's origin "
                                    f"{record.origin}: forecasts from a record start at its origin", q.location)
        simulated = scenario_with_record(loaded, record)
    probes: dict[str, tuple[Any, int]] = {}
    weeks: dict[str, int] = {}
    for q in questions:
        if q.spec.close_date < as_of:
            continue
        week = close_week(as_of, q.spec.close_date)
        if week > MAX_WEEK:
            raise ScenarioError(
                f"question '{q.id}': close date {q.spec.close_date} is week {week} after as_of {as_of}; "
                f"the engine simulates at most {MAX_WEEK} weeks", q.location)
        probes[q.id] = (q.spec.predicate, week)
        weeks[q.id] = week
    record_probes = {}
    if record is not None:
        record_probes = {f"record:{k}": v for k, v in record.probes().items()}
    if posterior is not None:
        from redline.calibrate import posterior_params

        if record is not None and posterior.metadata.get("record_sha256") == record.sha256:
            raise ScenarioError("this posterior was fitted to the same record: filtering on the record again "
                                "would count it twice; use --posterior alone (parameters) or --record alone "
                                "(parameters and state)", record.document.locate(()))
        params = posterior_params(posterior, params, runs, seed)
    elif record is not None:
        from redline.calibrate import prior_draws

        params = {**prior_draws(loaded, runs, seed), **(params or {})}
    exact = [o for o in facts.spec.observations if o.sd is None] if facts is not None else []
    fact_probes = {f"fact:{o.id}": (str(o.statistic), facts.weeks[o.id]) for o in exact}
    ds = escalation.run(simulated, runs=runs, seed=seed, strategies=strategies, params=params,
                        probes={**probes, **record_probes, **fact_probes} or None)
    failed = ds["failed"].values
    ok = ~failed
    fact_notes = []
    if exact:
        consistent = np.ones_like(ok)
        for o in exact:
            consistent &= np.isclose(ds["probe_value"].sel(probe=f"fact:{o.id}").values, o.value, rtol=0, atol=1e-9)
        fact_notes.append(f"conditioned on the record's {len(exact)} exact observation(s) up to {facts.origin}: "
                          f"{int((consistent & ok).sum()):,} of {int(ok.sum()):,} runs agree with them and are counted")
        ok &= consistent
    weights = np.ones(ok.size)
    record_info = None
    if record is not None:
        from redline.calibrate import record_likelihood

        stats = ds["probe_value"].sel(probe=list(record_probes)).values.T
        weights = record_likelihood(record, stats)
        weights[~ok] = 0.0
        ess = float(weights.sum() ** 2 / np.square(weights).sum()) if weights.sum() > 0 else 0.0
        if ess == 0.0:
            raise ScenarioError(f"none of the {runs:,} runs is consistent with the record: give its exact "
                                "observations an sd, forecast from a calibrated --posterior, or raise --runs",
                                record.document.locate(("observations",)))
        record_info = {"path": str(record.path or "<record>"), "sha256": record.sha256,
                       "origin": record.origin.isoformat(), "consistent_runs": int((weights > 0).sum()),
                       "effective_runs": ess}
    chosen = json.loads(ds.attrs["policies"])
    policies, notes = _policies(loaded, chosen, strategies)
    notes = notes + fact_notes
    failure = check_failures(ds)  # every run failing is an error naming the expression
    if failure:
        notes.append(f"{failure}; each probability is over the runs that finished")
    stopped = ds["stopped_week"].values[ok]  # NaN (ran to the end) compares False
    frozen_total = frozen_runs(ds)
    if frozen_total:
        notes.append(f"{frozen_total:,} of {runs:,} runs were frozen early by an absorbing outcome (their state "
                     "stops changing there); questions closing later read them from that frozen state — "
                     "regimes with exits avoid this")
    results = []
    for q in questions:
        spec = q.spec
        base = dict(id=q.id, question=spec.question, open_date=spec.open_date, close_date=spec.close_date,
                    outcome=spec.outcome, public_forecast=spec.public_forecast, predicate=str(spec.predicate))
        qnotes = []
        if q.id not in probes:
            qnotes.append(f"closes {spec.close_date}, before the scenario's as_of {as_of}: the scenario already "
                          "knows the answer, so it is not forecast or scored")
            results.append(QuestionForecast(**base, close_week=None, status="closed_before_as_of", probability=None,
                                            ci95=None, runs=0, hits=0, undefined_runs=0, notes=qnotes))
            continue
        if spec.open_date < as_of:
            qnotes.append(f"opened {spec.open_date}, before the scenario's as_of {as_of}: the model knows "
                          f"{(as_of - spec.open_date).days} day(s) more than a forecaster at the open date")
        elif spec.open_date > as_of:
            qnotes.append(f"opens {spec.open_date}, after as_of {as_of}: windows such as ever() count from as_of")
        values = ds["probe_value"].sel(probe=q.id).values[ok]
        frozen = int(np.count_nonzero(stopped < weeks[q.id]))
        if frozen:
            qnotes.append(f"{frozen:,} of {int(ok.sum()):,} runs were frozen by an absorbing outcome before week "
                          f"{weeks[q.id]}; their answer is read from the state where they ended")
        defined = ~np.isnan(values)
        n = int(defined.sum())
        hits = int((values[defined] != 0).sum())
        if record is None:
            probability = hits / n if n else None
            lo, hi = wilson_interval(hits, n)
        else:  # weighted by the record's likelihood; the interval on the effective sample size
            w = weights[ok][defined]
            n = int((w > 0).sum())
            hits = int(((values[defined] != 0) & (w > 0)).sum())
            total = w.sum()
            probability = float(w @ (values[defined] != 0)) / total if total > 0 else None
            n_eff = total ** 2 / np.square(w).sum() if total > 0 else 0.0
            lo, hi = wilson_interval(int(round((probability or 0.0) * n_eff)), int(round(n_eff)))
            n = n if total > 0 else 0
        results.append(QuestionForecast(
            **base, close_week=weeks[q.id], status="forecast", probability=probability,
            ci95=[lo, hi] if n else None, runs=n, hits=hits, undefined_runs=int((~defined).sum()), notes=qnotes,
            frozen_runs=frozen))
    return ForecastResult(
        scenario=loaded.id, scenario_sha256=loaded.sha256, as_of=as_of, runs=runs,
        failed_runs=int(failed.sum()), seed=seed, horizon=int(ds.attrs["horizon"]), policies=policies,
        notes=notes, questions=results, frozen_runs=frozen_total,
        posterior=posterior.describe() if posterior is not None else None, record=record_info)
