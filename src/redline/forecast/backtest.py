"""Score forecasts of resolved questions against what happened, beside simple baselines.

Scored set: questions that were forecast (close date on or after the scenario's ``as_of``) and
have an ``outcome``. Unresolved questions are forecast but not scored; questions closing before
``as_of`` are neither. Baselines are scored on exactly the same questions:

* ``always_0.5``: 0.5 for every question;
* ``base_rate_loo``: for each question, the share of the *other* scored questions that resolved
  true (leave-one-out; a question's own outcome never enters its forecast);
* ``public_forecast``: the forecast given in the file, on the questions that have one (the model is
  scored on the same subset beside it);
* any further reference forecasters passed in ``baselines`` (question id -> probability), such as
  :func:`redline.forecast.baselines.status_quo_poisson` fitted on the scenario's record, scored on
  the scored questions they cover.

Nothing here is fitted: the model's probabilities come from the scenario alone, and the
outcomes are read only after every forecast is made.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from redline.forecast.forecasting import ForecastResult, QuestionForecast
from redline.forecast.scoring import (
    BOOTSTRAP_RESAMPLES,
    CALIBRATION_BINS,
    LOG_FLOOR,
    Bootstrap,
    brier_scores,
    calibration_table,
    leave_one_out_base_rate,
    log_scores,
    murphy_decomposition,
)

__all__ = ["backtest", "SCORING"]

SCORING = {
    "brier": "mean of (p - o)^2 over questions; lower is better; 0.25 for always 0.5 (Brier 1950)",
    "log_score": (f"mean of -ln(probability given to what happened), nats; lower is better; probabilities "
                  f"clipped to [{LOG_FLOOR}, {1 - LOG_FLOOR}] so a wrong 0/1 forecast costs {-np.log(LOG_FLOOR):.2f}, "
                  "not infinity; ln 2 = 0.693 for always 0.5 (Good 1952)"),
    "log_floor": LOG_FLOOR,
    "ci95": (f"percentile bootstrap over questions ({BOOTSTRAP_RESAMPLES} resamples, seeded; paired across "
             "forecasters); per question: the Wilson interval of the model's probability mapped through the score"),
    "decomposition": f"Murphy (1973) over {CALIBRATION_BINS} equal-width forecast bins",
}


def _question_interval(score_fn, q: QuestionForecast) -> list[float] | None:
    """Score at both ends of the Wilson interval: the score is monotone in p for a fixed outcome."""
    if q.ci95 is None:
        return None
    o = [float(q.outcome)] * 2
    ends = score_fn(q.ci95, o)
    return [float(ends.min()), float(ends.max())]


def backtest(result: ForecastResult, *, seed: int | None = None,
             baselines: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    """Scores, baselines, calibration table and decomposition for the resolved questions of ``result``.

    ``seed`` (default: the forecast's seed) seeds the bootstrap. ``baselines``: further reference
    forecasters, name -> {question id -> probability}, made without reading any outcome. Returns a
    JSON-ready dict whose ``brier`` and ``log_score`` are the model's overall scores
    ``{"score", "ci95", "n"}``.
    """
    seed = result.seed if seed is None else seed
    scored = [q for q in result.questions
              if q.status == "forecast" and q.outcome is not None and q.probability is not None]
    scored_ids = {q.id for q in scored}
    unscored = []
    for q in result.questions:
        if q.id in scored_ids:
            continue
        if q.status != "forecast":
            reason = "closes before the scenario's as_of"
        elif q.outcome is None:
            reason = "unresolved (no outcome): forecast, not scored"
        else:
            reason = "no defined run: the predicate was undefined (NaN) in every run"
        unscored.append({"id": q.id, "reason": reason, "probability": q.probability})
    p = np.array([q.probability for q in scored], dtype=float)
    o = np.array([float(q.outcome) for q in scored], dtype=float)
    boot = Bootstrap(len(scored), seed=seed)

    forecasters: dict[str, np.ndarray] = {"model": p, "always_0.5": np.full(len(scored), 0.5),
                                          "base_rate_loo": leave_one_out_base_rate(o)}
    extra, baseline_notes = {}, []
    for name, probs in (baselines or {}).items():
        if name in forecasters or name == "public_forecast":
            raise ValueError(f"baseline name '{name}' is taken")
        missing = [q.id for q in scored if q.id not in probs]
        if missing:
            baseline_notes.append(f"baseline {name} left out: it gives no forecast for {', '.join(missing)}")
            continue
        extra[name] = np.array([float(probs[q.id]) for q in scored], dtype=float)
    forecasters.update(extra)
    named = ("always_0.5", "base_rate_loo", *extra)
    per_question = []
    for i, q in enumerate(scored):
        row = {
            "id": q.id, "close_date": q.close_date.isoformat(), "close_week": q.close_week,
            "outcome": bool(q.outcome), "probability": q.probability, "ci95": q.ci95, "runs": q.runs,
            "frozen_runs": q.frozen_runs,
            "brier": {"score": float(brier_scores(p[i], o[i])), "ci95": _question_interval(brier_scores, q)},
            "log_score": {"score": float(log_scores(p[i], o[i])), "ci95": _question_interval(log_scores, q)},
            "baselines": {},
        }
        for name in named:
            f = forecasters[name][i]
            row["baselines"][name] = {"probability": float(f), "brier": float(brier_scores(f, o[i])),
                                      "log_score": float(log_scores(f, o[i]))}
        if q.public_forecast is not None:
            f = q.public_forecast
            row["baselines"]["public_forecast"] = {"probability": f, "brier": float(brier_scores(f, o[i])),
                                                   "log_score": float(log_scores(f, o[i]))}
        per_question.append(row)

    model_brier, model_log = brier_scores(p, o), log_scores(p, o)
    baselines: dict[str, Any] = {}
    for name in named:
        b, lg = brier_scores(forecasters[name], o), log_scores(forecasters[name], o)
        baselines[name] = {
            "brier": boot.summary(b), "log_score": boot.summary(lg),
            "model_minus_baseline": {"brier": {"score": float((model_brier - b).mean()) if b.size else None,
                                               "ci95": boot.ci(model_brier - b)},
                                     "log_score": {"score": float((model_log - lg).mean()) if b.size else None,
                                                   "ci95": boot.ci(model_log - lg)}},
        }
    public_idx = [i for i, q in enumerate(scored) if q.public_forecast is not None]
    if public_idx:
        idx = np.array(public_idx)
        f = np.array([scored[i].public_forecast for i in public_idx], dtype=float)
        sub = Bootstrap(len(idx), seed=seed)
        b, lg = brier_scores(f, o[idx]), log_scores(f, o[idx])
        baselines["public_forecast"] = {
            "brier": sub.summary(b), "log_score": sub.summary(lg),
            "questions": [scored[i].id for i in public_idx],
            "model_on_same_questions": {"brier": sub.summary(model_brier[idx]), "log_score": sub.summary(model_log[idx])},
            "model_minus_baseline": {"brier": {"score": float((model_brier[idx] - b).mean()),
                                               "ci95": sub.ci(model_brier[idx] - b)},
                                     "log_score": {"score": float((model_log[idx] - lg).mean()),
                                                   "ci95": sub.ci(model_log[idx] - lg)}},
        }
    overall = {"brier": boot.summary(model_brier), "log_score": boot.summary(model_log)}
    forecast = result.to_dict()
    return {
        **{k: forecast[k] for k in ("posterior", "record") if k in forecast},
        "scenario": result.scenario,
        "scenario_sha256": result.scenario_sha256,
        "as_of": forecast["as_of"],
        "runs": result.runs,
        "failed_runs": result.failed_runs,
        "frozen_runs": result.frozen_runs,
        "seed": result.seed,
        "bootstrap_seed": seed,
        "policies": result.policies,
        "notes": result.notes + baseline_notes,
        "scoring": SCORING,
        "n_questions": len(result.questions),
        "n_scored": len(scored),
        "brier": overall["brier"],
        "log_score": overall["log_score"],
        "overall": overall,
        "baselines": baselines,
        "questions": per_question,
        "unscored": unscored,
        "calibration": calibration_table(p, o),
        "decomposition": murphy_decomposition(p, o),
        "forecasts": forecast["questions"],
    }
