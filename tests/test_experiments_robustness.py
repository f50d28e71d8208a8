"""Robustness checks: the space they sample is the one the comparison draws from (priors or posterior)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from redline.calibrate import load_posterior
from redline.calibrate.posterior import write_posterior
from redline.errors import ParameterError
from redline.experiments.compare import compare
from redline.experiments.robustness import robustness_check, space_title
from redline.scenario import load_scenario
from tests.conftest import redline_cli

ARGS = {"actor": "challenger", "strategies": ["deniable", "loud"], "horizon": None}
# Particles over two of proxy-deterrence's three uncertainties (casualty_sensitivity is left to its
# prior); the last particle has no weight and must never be drawn.
NAMES = ["attribution_probability", "defender_credibility"]
THETA = np.array([[0.2, 0.4], [0.5, 0.9], [0.8, 0.6], [0.95, 0.35], [0.1, 0.99]])
WEIGHTS = np.array([0.4, 0.3, 0.2, 0.1, 0.0])


@pytest.fixture(scope="module")
def loaded():
    return load_scenario("proxy-deterrence")


@pytest.fixture(scope="module")
def posterior_file(loaded, tmp_path_factory):
    path = tmp_path_factory.mktemp("posterior") / "proxy.posterior.parquet"
    return write_posterior(path, NAMES, THETA, WEIGHTS,
                           {"scenario": loaded.id, "scenario_sha256": loaded.sha256, "seed": 0})


@pytest.fixture(scope="module")
def posterior(loaded, posterior_file):
    return load_posterior(posterior_file, loaded)


def _particle_of(params: dict) -> int:
    """The index of the particle a point's calibrated parameters equal (exactly), or -1."""
    point = np.array([params[n] for n in NAMES])
    hits = np.flatnonzero((THETA == point).all(axis=1))
    return int(hits[0]) if hits.size else -1


def test_posterior_points_are_weighted_particles_and_reproducible(loaded, posterior):
    first = robustness_check(loaded, **ARGS, points=6, runs=20, seed=5, posterior=posterior)
    again = robustness_check(loaded, **ARGS, points=6, runs=20, seed=5, posterior=posterior)
    other = robustness_check(loaded, **ARGS, points=6, runs=20, seed=6, posterior=posterior)
    assert first == again
    assert [p["params"] for p in first["design"]] != [p["params"] for p in other["design"]]
    assert first["space"] == "posterior" and first["posterior"] == posterior.describe()
    assert first["from_priors"] == ["casualty_sensitivity"]
    assert space_title(first).startswith("the posterior (5 particles, sha256 ")
    drawn = [p["params"] for p in first["design"]]
    particles = [_particle_of(p) for p in drawn]
    assert all(0 <= i < 4 for i in particles), particles  # a particle, never the weightless one
    sensitivity = [p["casualty_sensitivity"] for p in drawn]
    assert all(0.001 <= s <= 0.01 for s in sensitivity) and len(set(sensitivity)) == 6
    # The ranges reported are those of the points drawn, not the priors'.
    for name, (low, high) in first["uncertainties"].items():
        assert (low, high) == (min(p[name] for p in drawn), max(p[name] for p in drawn))
    assert first["uncertainties"]["attribution_probability"] != [0.05, 1.0]


def test_posterior_points_follow_the_weights(loaded, posterior):
    """Systematic resampling: each particle is drawn points x weight times (whole numbers here)."""
    result = robustness_check(loaded, **ARGS, points=20, runs=2, seed=1, posterior=posterior)
    counts = np.bincount([_particle_of(p["params"]) for p in result["design"]], minlength=5)
    assert counts.tolist() == [8, 6, 4, 2, 0]


def test_each_point_runs_the_comparison_at_its_parameters(loaded, posterior):
    """Point i is a plain comparison at its drawn parameters, seeded by child i + 1 of the seed."""
    result = robustness_check(loaded, **ARGS, points=3, runs=30, seed=4, posterior=posterior)
    children = np.random.SeedSequence(4).spawn(4)
    for i, point in enumerate(result["design"]):
        res = compare(loaded, **ARGS, runs=30, seed=children[i + 1], params=point["params"])
        direct = {f"{d['a']}-{d['b']}:{d['outcome']}": d["difference"] for d in res.differences}
        assert point["differences"] == direct


def test_prior_path_is_the_latin_hypercube_it_was(loaded):
    """Without a posterior: the same design as before posteriors were sampled (pinned at seed 3),
    the priors as ranges, and each point the comparison at its parameters."""
    result = robustness_check(loaded, **ARGS, points=4, runs=50, seed=3)
    assert result == robustness_check(loaded, **ARGS, points=4, runs=50, seed=3, posterior=None)
    assert result["space"] == "priors (Latin hypercube)" and "posterior" not in result
    assert space_title(result) == "the priors (Latin hypercube)"
    assert result["uncertainties"] == {"attribution_probability": [0.05, 1.0], "casualty_sensitivity": [0.001, 0.01],
                                       "defender_credibility": [0.3, 1.0]}
    assert result["design"][0]["params"] == {"attribution_probability": 0.4347095281396957,
                                             "casualty_sensitivity": 0.007386392620795791,
                                             "defender_credibility": 0.631201977870692}
    assert result["design"][3]["params"] == {"attribution_probability": 0.13120215828261483,
                                             "casualty_sensitivity": 0.0033340928372049103,
                                             "defender_credibility": 0.4683831318700812}
    children = np.random.SeedSequence(3).spawn(5)
    res = compare(loaded, **ARGS, runs=50, seed=children[2], params=result["design"][1]["params"])
    assert result["design"][1]["differences"] == {f"{d['a']}-{d['b']}:{d['outcome']}": d["difference"]
                                                  for d in res.differences}


def test_space_title_of_a_result_written_before_spaces_were_recorded():
    assert space_title({"points": 3}) == "the uncertainty space"


def test_cli_robustness_samples_the_posterior_the_comparison_uses(loaded, posterior, posterior_file):
    base = ["compare", "proxy-deterrence", "--actor", "challenger", "--strategies", "deniable,loud",
            "--runs", "20", "--robustness", "4", "--seed", "2"]
    drawn = redline_cli(*base, "--posterior", str(posterior_file), "--json")
    assert drawn.returncode == 0, drawn.stderr
    rob = json.loads(drawn.stdout)["robustness"]
    assert rob["space"] == "posterior" and rob["posterior"]["sha256"] == posterior.sha256
    assert all(0 <= _particle_of(p["params"]) < 4 for p in rob["design"])
    assert rob == robustness_check(loaded, **ARGS, points=4, runs=20, seed=2, posterior=posterior)
    prior = redline_cli(*base, "--json")  # no posterior beside proxy-deterrence: the priors
    assert prior.returncode == 0, prior.stderr
    assert json.loads(prior.stdout)["robustness"]["space"] == "priors (Latin hypercube)"
    shown = redline_cli(*base, "--posterior", str(posterior_file))
    assert shown.returncode == 0, shown.stderr
    assert "Robustness over 4 points of the posterior (5 particles" in " ".join(shown.stdout.split())


def test_flagship_thesis_components_name_its_strategies_and_outcomes():
    from redline.cli.demo import THESIS_COMPONENTS

    flagship = load_scenario("iran-us-2020")
    for component in THESIS_COMPONENTS["iran-us-2020"]:
        assert {component["a"], component["b"]} <= set(flagship.program.strategies["iran"])
        assert component["outcome"] in flagship.spec.outcomes and component["sign"] in (1, -1)


@pytest.mark.parametrize("use_posterior, seed", [(False, 9), (True, 13)])
def test_components_without_a_stated_sign_take_the_headline_comparisons_sign(loaded, posterior, use_posterior, seed):
    """With no thesis components, each outcome's claim is signed as the comparison at the defaults
    (or over the posterior) has it -- not as the first sampled point happens to have it."""
    post = posterior if use_posterior else None
    result = robustness_check(loaded, **ARGS, points=3, runs=40, seed=seed, posterior=post)
    headline = compare(loaded, **ARGS, runs=40, seed=np.random.SeedSequence(seed).spawn(5)[4], posterior=post)
    signs = {d["outcome"]: (1 if d["difference"] >= 0 else -1) for d in headline.differences}
    assert {c["outcome"]: c["sign"] for c in result["components"]} == signs
    where = "over the posterior" if use_posterior else "at defaults"
    assert all(c["claim"].endswith(f"(sign {where})") for c in result["components"])
    # The headline is a comparison of its own: at these seeds (chosen so) some outcome's sign
    # differs from the first point's, which the components were signed by before.
    first = result["design"][0]["differences"]
    assert any(np.sign(first[f"deniable-loud:{o}"]) != s for o, s in signs.items() if first[f"deniable-loud:{o}"])


def test_pinned_parameters_hold_at_every_point(loaded, posterior):
    """--param pins reach the robustness points: the pinned uncertainty leaves the design, every
    point's comparison runs with it pinned, and the other columns are the unpinned design's."""
    free = robustness_check(loaded, **ARGS, points=3, runs=30, seed=4)
    pinned = robustness_check(loaded, **ARGS, points=3, runs=30, seed=4, params={"defender_credibility": 0.9})
    assert pinned["pinned"] == {"defender_credibility": 0.9}
    assert "defender_credibility" not in pinned["uncertainties"]
    assert space_title(pinned) == "the priors (Latin hypercube) with defender_credibility=0.9 pinned"
    children = np.random.SeedSequence(4).spawn(4)
    for i, (p_point, f_point) in enumerate(zip(pinned["design"], free["design"])):
        assert p_point["params"] == {k: v for k, v in f_point["params"].items() if k != "defender_credibility"}
        res = compare(loaded, **ARGS, runs=30, seed=children[i + 1],
                      params={**p_point["params"], "defender_credibility": 0.9})
        assert p_point["differences"] == {f"{d['a']}-{d['b']}:{d['outcome']}": d["difference"] for d in res.differences}
    over_posterior = robustness_check(loaded, **ARGS, points=3, runs=30, seed=4, posterior=posterior,
                                      params={"attribution_probability": 0.5})
    assert all(p["params"].keys() == {"defender_credibility", "casualty_sensitivity"} for p in over_posterior["design"])
    with pytest.raises(ParameterError, match="nothing to vary"):
        robustness_check(loaded, **ARGS, points=3, runs=30, seed=4,
                         params={"defender_credibility": 0.9, "attribution_probability": 0.5, "casualty_sensitivity": 0.004})
