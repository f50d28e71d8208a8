"""Calibration: fit a scenario's uncertainties to a dated record, and use the posterior.

``load_record`` reads a record (dated observations and events up to an origin);
``calibrate`` fits the uncertainties by ABC-SMC (Toni et al. 2009; adaptive tolerances, Del Moral,
Doucet & Jasra 2012) and writes the posterior as weighted particles (Parquet);
``load_posterior`` reads one back, checked against its scenario, and ``Posterior.draw`` gives one
parameter vector per run for :func:`redline.escalation.run`.
"""
from __future__ import annotations

from redline.calibrate.fit import DEFAULT_PARTICLES, EXECUTORS, CalibrationResult, calibrate, scenario_with_record
from redline.calibrate.posterior import (
    Posterior,
    load_posterior,
    posterior_beside,
    posterior_params,
    prior_draws,
    read_posterior,
    shipped_posterior,
    write_posterior,
)
from redline.calibrate.record import Observation, Record, RecordSpec, load_record, record_likelihood
from redline.calibrate.smc import CalibrationError, UniformPrior, abc_smc, effective_sample_size, weighted_quantile

__all__ = [
    "DEFAULT_PARTICLES",
    "EXECUTORS",
    "CalibrationError",
    "CalibrationResult",
    "Observation",
    "Posterior",
    "Record",
    "RecordSpec",
    "UniformPrior",
    "abc_smc",
    "calibrate",
    "effective_sample_size",
    "load_posterior",
    "load_record",
    "posterior_beside",
    "posterior_params",
    "prior_draws",
    "read_posterior",
    "record_likelihood",
    "scenario_with_record",
    "shipped_posterior",
    "weighted_quantile",
    "write_posterior",
]
