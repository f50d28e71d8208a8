"""The web seat's HTTP contract: start a game, get each week's briefing, choose, refuse what is not
offered, and end with the same outcomes the engine gives for those choices (same seed)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from redline import escalation  # noqa: E402
from redline.results import outcome_summary  # noqa: E402
from redline.web import create_app  # noqa: E402


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
