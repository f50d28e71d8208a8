"""The web seat's HTTP contract: start a game, get each week's briefing, choose, refuse what is not
offered, and end with the same outcomes the engine gives for those choices (same seed), its parameters
drawn from the posterior shipped beside the scenario unless ``prior`` is true (as a job's are)."""
from __future__ import annotations

import copy

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from redline import escalation  # noqa: E402
from redline.calibrate import shipped_posterior  # noqa: E402
from redline.experiments.compare import simulate  # noqa: E402
from redline.results import outcome_summary  # noqa: E402
from redline.scenario import load_scenario  # noqa: E402
from redline.web import create_app  # noqa: E402
from tests.conftest import _EXAMPLE_DOC, write_calibrated  # noqa: E402


@pytest.fixture
def client():
    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as c:
        yield c


def _wait(client, gid):
    for _ in range(100):
        g = client.get(f"/api/play/{gid}?wait=5").json()
        if g["status"] != "running":
            return g
    raise AssertionError("the game never asked nor ended")


def test_play_a_game_in_the_browser_api(client):
    assert "play.js" in client.get("/play").text
    r = client.post("/api/play", json={"scenario": "proxy-deterrence", "actor": "challenger", "seed": 5, "horizon": 6})
    assert r.status_code == 201, r.text
    gid = r.json()["game"]
    g = _wait(client, gid)
    assert g["status"] == "waiting" and g["briefing"]["week"] == 1
    rows = g["briefing"]["tracks"]["military"]
    strike = next(x for x in rows if x["id"] == "overt_strike")
    assert strike["expected"]["tension"] == 15 and strike["may_trip"] == ["two_attributed_attacks"]
    bad = client.post(f"/api/play/{gid}/act", json={"choose": {"military": "retaliate"}})
    assert bad.status_code == 400 and "not available" in bad.json()["error"]
    weeks = 0
    while g["status"] == "waiting":
        assert client.post(f"/api/play/{gid}/act", json={"choose": {"military": "overt_strike"}}).status_code == 202
        weeks += 1
        g = _wait(client, gid)
    assert g["status"] == "done", g
    # The same choices through the engine hook, same seed: the same outcome weeks.
    ds = escalation.run("proxy-deterrence", runs=1, horizon=6, seed=5, choosers={"challenger": lambda req: {
        t: np.where(o["overt_strike"], list(o).index("overt_strike"), -1) for t, o in req.options.items()}})
    expected = {o: s["median_week"] for o, s in outcome_summary(ds).items()}
    assert g["result"]["outcomes"]["you"] == expected
    assert {"deniable", "loud", "chooser"} <= set(g["result"]["outcomes"])
    assert weeks == int(ds["stopped_week"].fillna(6).values[0])


def test_bad_game_requests_are_refused(client):
    assert client.post("/api/play", json={"scenario": "proxy-deterrence", "actor": "challengr"}).status_code == 400
    assert "did you mean 'challenger'" in client.post(
        "/api/play", json={"scenario": "proxy-deterrence", "actor": "challengr"}).json()["error"]
    assert client.post("/api/play", json={"scenario": "nope", "actor": "x"}).status_code == 404
    assert client.get("/api/play/game-0000").status_code == 404
    gid = client.post("/api/play", json={"scenario": "proxy-deterrence", "actor": "challenger", "horizon": 2}).json()["game"]
    other = TestClient(client.app, base_url="http://127.0.0.1:8000")  # another browser session cannot see or play this game
    assert other.get(f"/api/play/{gid}").status_code == 404
    _wait(client, gid)
    assert client.post(f"/api/play/{gid}/act", json={"choose": {"militar": None}}).status_code == 400


SCENARIO_ID = "proxy-calibrated-seat"


@pytest.fixture(scope="module")
def calibrated_client(tmp_path_factory):
    """An app serving the example (plus a probability-1 strategy to copy) with a small posterior beside it."""
    doc = copy.deepcopy(_EXAMPLE_DOC)
    doc["strategies"]["always_proxy"] = {"actor": "challenger", "description": "A proxy attack every week.",
                                         "policy": {"kind": "scripted", "probabilities": {"proxy_attack": 1.0}},
                                         "assumption": "test"}
    path = write_calibrated(tmp_path_factory.mktemp("seat-posterior"), doc, SCENARIO_ID)
    with TestClient(create_app(scenarios=[path]), base_url="http://127.0.0.1:8000") as c:
        yield c, load_scenario(path)


def _play_proxy_every_week(client, body: dict) -> dict:
    r = client.post("/api/play", json=body)
    assert r.status_code == 201, r.text
    g = _wait(client, r.json()["game"])
    assert (g["posterior"], g["prior"]) == (r.json()["posterior"], r.json()["prior"])
    while g["status"] == "waiting":
        assert client.post(f"/api/play/{g['game']}/act", json={"choose": {"military": "proxy_attack"}}).status_code == 202
        g = _wait(client, g["game"])
    assert g["status"] == "done", g
    return g


def test_a_web_game_draws_from_the_shipped_posterior_and_prior_true_from_the_priors(calibrated_client):
    client, loaded = calibrated_client
    post = shipped_posterior(loaded)
    settings = {"runs": 1, "seed": 1, "horizon": 40}

    def weeks(ds):
        return {o: s["median_week"] for o, s in outcome_summary(ds).items()}

    drawn = weeks(simulate(loaded, strategies={"challenger": "always_proxy"}, posterior=post, **settings))
    priors = weeks(simulate(loaded, strategies={"challenger": "always_proxy"}, **settings))
    assert drawn != priors  # at this seed the posterior's world and the priors' can be told apart

    g = _play_proxy_every_week(client, {"scenario": SCENARIO_ID, "actor": "challenger", "seed": 1, "horizon": 40})
    assert g["result"]["outcomes"]["you"] == drawn
    assert g["result"]["outcomes"]["loud"] == weeks(simulate(loaded, strategies={"challenger": "loud"},
                                                             posterior=post, **settings))
    assert g["posterior"] == {"path": post.path.name, "sha256": post.sha256, "particles": 3}
    assert g["prior"] is False and g["origin"] == "file"

    g = _play_proxy_every_week(client, {"scenario": SCENARIO_ID, "actor": "challenger", "seed": 1, "horizon": 40,
                                        "prior": True})
    assert g["result"]["outcomes"]["you"] == priors
    assert g["posterior"] is None and g["prior"] is True


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, None, [True]])
def test_a_bad_prior_starts_no_game_and_names_it(calibrated_client, value):
    client, _ = calibrated_client
    r = client.post("/api/play", json={"scenario": SCENARIO_ID, "actor": "challenger", "prior": value})
    assert r.status_code == 400
    assert r.json()["error"].startswith("prior must be true or false, got ")
