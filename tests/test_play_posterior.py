"""Playing an actor faces the same worlds as every other command: a game on a scenario with a posterior
beside it draws each run's parameters from that posterior exactly as ``simulate`` does (a seat that
copies a strategy gets that strategy's numbers under the same seed and posterior), the priors when
asked for, and records which it used — in the library, ``redline play`` (and its replay) and the web seat."""
from __future__ import annotations

import copy
import json
import sys

import numpy as np
import pytest

from redline.calibrate import shipped_posterior, write_posterior
from redline.experiments.compare import simulate
from redline.play import GameLog, Seat, play, replay
from redline.play.briefing import strategy_comparison
from redline.results import outcome_summary
from redline.scenario import load_scenario
from tests.conftest import _EXAMPLE_DOC, CALIBRATED_PARTICLES, redline_cli, write_calibrated
from tests.test_play import AGENT

SCENARIO_ID = "proxy-calibrated-play"
VARIABLES = ("outcome_week", "final_state", "action_count", "red_line_week", "stopped_week")


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """The example with two probability-1 strategies to copy, and a small posterior beside it."""
    doc = copy.deepcopy(_EXAMPLE_DOC)
    for name, action in (("always_loud", "overt_strike"), ("always_proxy", "proxy_attack")):
        doc["strategies"][name] = {"actor": "challenger", "description": f"{action} every week.",
                                   "policy": {"kind": "scripted", "probabilities": {action: 1.0}}, "assumption": "test"}
    return load_scenario(write_calibrated(tmp_path_factory.mktemp("play-posterior"), doc, SCENARIO_ID))


class _Always(Seat):
    """An in-process seat that takes ``action`` whenever it is offered (what a probability-1 strategy does)."""

    def __init__(self, action: str):
        self.action = action

    def ask(self, observe: dict) -> dict:
        return {"type": "act", "actions": [
            {"run": r["run"], "choose": {t: (self.action if self.action in o else None) for t, o in r["options"].items()}}
            for r in observe["runs"]]}


def _weeks(ds) -> dict:
    return {o: s["median_week"] for o, s in outcome_summary(ds).items()}


def test_a_seat_with_a_posterior_gets_the_numbers_of_simulate_with_it(calibrated):
    post = shipped_posterior(calibrated)
    assert post is not None and post.particles == 3
    game = play(calibrated, {"challenger": _Always("proxy_attack")}, runs=300, horizon=40, seed=6, posterior=post)
    ref = simulate(calibrated, runs=300, horizon=40, seed=6, strategies={"challenger": "always_proxy"}, posterior=post)
    for var in VARIABLES:
        np.testing.assert_array_equal(game[var].values, ref[var].values, err_msg=var)
    assert json.loads(game.attrs["posterior"]) == post.describe()
    # the priors are another world: the same seat and seed without the posterior differ
    prior = play(calibrated, {"challenger": _Always("proxy_attack")}, runs=300, horizon=40, seed=6)
    assert "posterior" not in prior.attrs
    assert not np.array_equal(prior["outcome_week"].values, game["outcome_week"].values)
    np.testing.assert_array_equal(prior["outcome_week"].values, simulate(
        calibrated, runs=300, horizon=40, seed=6, strategies={"challenger": "always_proxy"})["outcome_week"].values)


def test_the_strategy_columns_draw_the_same_parameters_as_the_game(calibrated):
    post = shipped_posterior(calibrated)
    arms = strategy_comparison(calibrated, "challenger", runs=200, seed=2, horizon=30, strategies=None, params=None,
                               posterior=post)
    ref = simulate(calibrated, runs=200, horizon=30, seed=2, strategies={"challenger": "loud"}, posterior=post)
    np.testing.assert_array_equal(arms["loud"]["outcome_week"].values, ref["outcome_week"].values)


def test_the_log_records_the_posterior_and_a_replay_draws_from_it_again(tmp_path, calibrated):
    post = shipped_posterior(calibrated)
    log = tmp_path / "game.jsonl"
    with open(log, "w") as stream:
        game = play(calibrated, {"challenger": _Always("overt_strike")}, runs=50, horizon=20, seed=3, posterior=post,
                    log=GameLog(stream), header={"scenario_path": str(calibrated.path)})
    header = json.loads(log.read_text().splitlines()[0])
    assert header["posterior"] == post.describe()
    again = replay(log)
    np.testing.assert_array_equal(again["outcome_week"].values, game["outcome_week"].values)
    assert json.loads(again.attrs["posterior"])["sha256"] == post.sha256


def test_cli_play_uses_the_shipped_posterior_like_run_and_prior_the_priors(tmp_path, calibrated):
    agent = tmp_path / "agent.py"
    agent.write_text(AGENT)
    scen = str(calibrated.path)
    seat = ["--seat", f"challenger=agent:cmd:{sys.executable} {agent} proxy_attack"]
    common = ["--runs", "60", "--horizon", "30", "--seed", "9", "--json"]
    arms = {}
    for flags in ([], ["--prior"]):
        ref = redline_cli("run", scen, "--strategy", "challenger=always_proxy", *common, *flags)
        got = redline_cli("play", scen, *seat, *common, *flags, "--log", str(tmp_path / f"game{len(flags)}.jsonl"))
        assert ref.returncode == 0 and got.returncode == 0, got.stderr
        a, b = json.loads(ref.stdout), json.loads(got.stdout)
        assert set(a) == set(b) and a["outcomes"] == b["outcomes"]
        assert a.get("posterior") == b.get("posterior")
        arms[bool(flags)] = b
        said = f"using the posterior shipped with {SCENARIO_ID}"
        assert (said in got.stderr) == (not flags)
    post = shipped_posterior(calibrated)
    assert arms[False]["posterior"] == post.describe() and "posterior" not in arms[True]
    assert arms[False]["outcomes"] != arms[True]["outcomes"]
    # the log of the posterior game replays with it; the same log without the file is refused
    again = redline_cli("replay", str(tmp_path / "game0.jsonl"), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["outcomes"] == arms[False]["outcomes"]
    moved = tmp_path / "elsewhere.posterior.parquet"
    post.path.rename(moved)
    try:
        gone = redline_cli("replay", str(tmp_path / "game0.jsonl"))
        assert gone.returncode == 2 and "drew its parameters from the posterior" in gone.stderr
        assert len(gone.stderr.strip().splitlines()) == 1 and "--posterior FILE" in gone.stderr
        # ... unless its new place is given: the same numbers again
        found = redline_cli("replay", str(tmp_path / "game0.jsonl"), "--posterior", str(moved), "--json")
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["outcomes"] == arms[False]["outcomes"]
        # a posterior with other content, or one for a game played from the priors, is refused
        names, theta, weights = CALIBRATED_PARTICLES
        wrong = write_posterior(tmp_path / "other.posterior.parquet", names, np.array(theta), np.array(weights[::-1]),
                                {"scenario": SCENARIO_ID, "scenario_sha256": calibrated.sha256})
        refused = redline_cli("replay", str(tmp_path / "game0.jsonl"), "--posterior", str(wrong))
        assert refused.returncode == 2 and "is not the posterior the game drew from" in refused.stderr
        prior_game = redline_cli("replay", str(tmp_path / "game1.jsonl"), "--posterior", str(moved))
        assert prior_game.returncode == 2 and "drew its parameters from the priors" in prior_game.stderr
        bad = redline_cli("play", scen, *seat, "--posterior", str(moved), "--prior")
        assert bad.returncode == 2 and "--posterior and --prior exclude each other" in bad.stderr
    finally:
        moved.rename(post.path)
