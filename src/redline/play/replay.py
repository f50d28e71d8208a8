"""Replay a recorded game: the same scenario, seed and settings, each seat answered from the log.

Every observation is checked against the recorded one, so a replay either reproduces the game
exactly (same observations, choices and outcomes) or stops at the first difference. A game that drew
its parameters from a posterior is replayed with the same posterior file (checked by its sha256).
"""
from __future__ import annotations

from pathlib import Path

import xarray as xr

from redline.calibrate.posterior import Posterior, load_posterior, posterior_beside
from redline.results.summary import outcome_summary
from redline.errors import ParameterError
from redline.play.game import play, read_log
from redline.play.seats import ReplaySeat
from redline.scenario import load_scenario

__all__ = ["replay"]


def replay(path: str | Path, scenario: str | Path | None = None, posterior: str | Path | None = None) -> xr.Dataset:
    """Play the game recorded in ``path`` again; ``scenario`` overrides the recorded location, and
    ``posterior`` the recorded posterior file's (it must hold the recorded content: same sha256).

    Raises
    ------
    ParameterError
        the scenario changed since the game was recorded, or the outcomes differ.
    BadAnswer
        an observation differs from the recorded one (the replay diverged).
    """
    header, exchanges, end = read_log(path)
    where = scenario or header.get("scenario_path") or header["scenario"]
    loaded = load_scenario(where)
    if loaded.sha256 != header["scenario_sha256"]:
        raise ParameterError(f"{path}: the scenario {where} has changed since the game was recorded "
                             f"(sha256 {loaded.sha256[:12]}..., recorded {header['scenario_sha256'][:12]}...)")
    seats = {actor: ReplaySeat(actor, exchanges.get(actor, []), str(path)) for actor in header["seats"]}
    ds = play(loaded, seats, runs=header["runs"], seed=header["seed"], horizon=header["horizon"],
              strategies=header.get("strategies") or None, params=header.get("params") or None,
              posterior=_recorded_posterior(header, loaded, path, posterior), on_bad_answer="error")
    if end is not None:
        now = outcome_summary(ds)
        for name, recorded in end["outcomes"].items():
            if now.get(name, {}).get("count") != recorded.get("count"):
                raise ParameterError(f"{path}: replay differs from the recorded game: {name} happened in "
                                     f"{now.get(name, {}).get('count')} runs, recorded {recorded.get('count')}")
    return ds


def _recorded_posterior(header: dict, loaded, log: str | Path, given: str | Path | None = None) -> Posterior | None:
    """The posterior the recorded game drew from (None: the priors; logs from before posteriors
    were recorded are prior games): ``given`` if set, else the recorded file, else the one beside
    the scenario; it must have the recorded sha256."""
    recorded = header.get("posterior")
    if not recorded:
        if given is not None:
            raise ParameterError(f"{log}: the game drew its parameters from the priors; it is replayed without "
                                 f"a posterior (drop --posterior {given})")
        return None
    if given is not None:
        post = load_posterior(given, loaded)
        if post.sha256 != recorded["sha256"]:
            raise ParameterError(f"{log}: {given} is not the posterior the game drew from (sha256 {post.sha256[:12]}..., "
                                 f"recorded {recorded['sha256'][:12]}...)")
        return post
    for candidate in (Path(recorded["path"]), posterior_beside(loaded)):
        if candidate is not None and candidate.is_file():
            post = load_posterior(candidate, loaded)
            if post.sha256 == recorded["sha256"]:
                return post
    raise ParameterError(f"{log}: the game drew its parameters from the posterior {Path(recorded['path']).name} "
                         f"(sha256 {recorded['sha256'][:12]}...), which is neither at {recorded['path']} nor beside "
                         "the scenario with that content: give its new place with --posterior FILE")
