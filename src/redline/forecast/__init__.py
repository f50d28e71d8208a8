"""Forecasts of dated questions and their scoring against what happened.

``load_questions`` reads a question file; ``forecast`` turns a scenario into a probability (with a
Wilson interval) per question by evaluating each predicate inside the simulation; ``backtest``
scores resolved questions (Brier, log score) beside baselines, with bootstrap intervals, a
calibration table and the Murphy decomposition (the reliability diagram is drawn by
:func:`redline.report.figures.backtest_calibration_plot`).
"""
from __future__ import annotations

from redline.forecast.backtest import SCORING, backtest
from redline.forecast.forecasting import DEFAULT_RUNS, ForecastResult, QuestionForecast, forecast
from redline.forecast.questions import (
    LocatedQuestion,
    check_predicates,
    close_week,
    load_questions,
    questions_from_scenario,
)
from redline.forecast.scoring import (
    LOG_FLOOR,
    Bootstrap,
    brier_scores,
    calibration_table,
    leave_one_out_base_rate,
    log_scores,
    murphy_decomposition,
)

__all__ = [
    "DEFAULT_RUNS",
    "LOG_FLOOR",
    "SCORING",
    "Bootstrap",
    "ForecastResult",
    "LocatedQuestion",
    "QuestionForecast",
    "backtest",
    "brier_scores",
    "calibration_table",
    "check_predicates",
    "close_week",
    "forecast",
    "leave_one_out_base_rate",
    "load_questions",
    "log_scores",
    "murphy_decomposition",
    "questions_from_scenario",
]
