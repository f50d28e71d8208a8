"""`redline serve FILE...`: the user's own scenario files are offered and run beside the bundled ones;
the job's result carries the mechanism counts."""
from __future__ import annotations

import time

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from redline.errors import RedlineError, ScenarioError  # noqa: E402
from redline.web import create_app  # noqa: E402
from tests.conftest import write_yaml  # noqa: E402


def _wait(client, jid, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{jid}", params={"wait": 2}).json()
        if job["status"] in ("done", "error"):
            return job
    raise AssertionError("job did not finish")


def test_served_file_is_listed_shown_and_run(tmp_path, example_doc):
    example_doc["meta"]["id"] = "my-crisis"
    example_doc["meta"]["title"] = "My own crisis"
    path = write_yaml(tmp_path / "mine.yaml", example_doc)
    with TestClient(create_app(scenarios=[path]), base_url="http://127.0.0.1:8765") as client:
        rows = client.get("/api/scenarios").json()["scenarios"]
        mine = [r for r in rows if r["ref"] == "my-crisis"]
        assert mine and mine[0]["origin"] == "file" and "mine.yaml" in mine[0]["title"]
        assert client.get("/api/scenarios/my-crisis").json()["title"] == "My own crisis"
        job = _wait(client, client.post("/api/jobs", json={"scenario": "my-crisis", "runs": 200, "seed": 1}).json()["id"])
        assert job["status"] == "done", job
        assert job["result"]["red_lines"]["run"]["two_attributed_attacks"]["fired"] > 0
        assert job["result"]["actions"]["run"]["retaliate"]["mean_count"] >= 0


def test_a_bad_served_file_fails_at_start_located(tmp_path, example_doc):
    example_doc["outcomes"]["open_war"]["condition"] = "tensoin >= 90"
    path = write_yaml(tmp_path / "bad.yaml", example_doc)
    with pytest.raises(RedlineError, match="did you mean 'tension'") as err:
        create_app(scenarios=[path])
    assert err.value.location.file == str(path)


def test_a_served_file_may_not_shadow_a_bundled_id(tmp_path, example_doc):
    path = write_yaml(tmp_path / "same.yaml", example_doc)  # meta.id proxy-deterrence
    with pytest.raises(ScenarioError, match="already taken"):
        create_app(scenarios=[path])
