"""The web app runs from the same posterior as the CLI: a job on a scenario with a posterior beside
it draws each run's parameters from that posterior (the same draws as ``redline run`` at the same
seed), ``prior: true`` runs from the priors, and the result says which."""
from __future__ import annotations

import json
import time

import pytest
import yaml

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from tests.conftest import EXAMPLE, redline_cli, write_calibrated  # noqa: E402
from redline.calibrate import load_posterior, shipped_posterior  # noqa: E402
from redline.experiments.compare import compare, simulate  # noqa: E402
from redline.results import outcome_summary  # noqa: E402
from redline.scenario import load_scenario, scenario_from_text  # noqa: E402
from redline.web import create_app  # noqa: E402

RUNS, SEED = 200, 4
SCENARIO_ID = "proxy-calibrated"


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """The example scenario under its own id, with a small posterior beside it (far from the defaults)."""
    return write_calibrated(tmp_path_factory.mktemp("calibrated"), yaml.safe_load(EXAMPLE.read_text()), SCENARIO_ID)


@pytest.fixture(scope="module")
def client(calibrated):
    with TestClient(create_app(scenarios=[calibrated]), base_url="http://127.0.0.1:8000") as c:
        yield c


def _job(client: TestClient, body: dict, timeout: float = 120) -> dict:
    r = client.post("/api/jobs", json=body)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{r.json()['id']}", params={"wait": 2}).json()
        if job["status"] in ("done", "error"):
            assert job["status"] == "done", job["error"]
            return {**job["result"], "id": job["id"]}
    raise AssertionError("the job did not finish")


def _probabilities(block: dict) -> dict[str, float]:
    return {o: s["probability"] for o, s in block.items()}


def test_the_listing_says_which_scenarios_ship_a_posterior(client):
    rows = {s["ref"]: s["posterior"] for s in client.get("/api/scenarios").json()["scenarios"]}
    assert rows[SCENARIO_ID] is True and rows["proxy-deterrence"] is False
    assert client.get(f"/api/scenarios/{SCENARIO_ID}").json()["posterior"] is True
    assert client.get("/api/scenarios/proxy-deterrence").json()["posterior"] is False


def test_a_job_draws_from_the_shipped_posterior_and_prior_true_from_the_priors(client, calibrated):
    loaded = load_scenario(calibrated)
    post = load_posterior(calibrated.with_name(f"{SCENARIO_ID}.posterior.parquet"), loaded)
    drawn = _probabilities(outcome_summary(simulate(loaded, runs=RUNS, seed=SEED, posterior=post)))
    priors = _probabilities(outcome_summary(simulate(loaded, runs=RUNS, seed=SEED)))
    assert drawn != priors  # the posterior is far from the defaults: the two runs can be told apart

    result = _job(client, {"scenario": SCENARIO_ID, "runs": RUNS, "seed": SEED})
    assert _probabilities(result["outcomes"]["run"]) == drawn
    assert result["posterior"] == {"path": post.path.name, "sha256": post.sha256, "particles": 3}
    assert result["prior"] is False

    result = _job(client, {"scenario": SCENARIO_ID, "runs": RUNS, "seed": SEED, "prior": True})
    assert _probabilities(result["outcomes"]["run"]) == priors
    assert result["posterior"] is None and result["prior"] is True


def test_a_job_gives_the_numbers_of_redline_run(client, calibrated):
    cli = redline_cli("run", str(calibrated), "--runs", str(RUNS), "--seed", str(SEED), "--json")
    assert cli.returncode == 0, cli.stderr
    printed = json.loads(cli.stdout)
    result = _job(client, {"scenario": SCENARIO_ID, "runs": RUNS, "seed": SEED})
    assert _probabilities(result["outcomes"]["run"]) == _probabilities(printed["outcomes"])
    assert {k: result["posterior"][k] for k in ("sha256", "particles")} == \
           {k: printed["posterior"][k] for k in ("sha256", "particles")}


def test_a_compare_job_draws_the_same_posterior_draws_for_both_arms(client, calibrated):
    loaded = load_scenario(calibrated)
    post = shipped_posterior(loaded)
    expected = compare(loaded, actor="challenger", strategies=["deniable", "loud"], runs=RUNS, seed=SEED,
                       posterior=post)
    result = _job(client, {"scenario": SCENARIO_ID, "runs": RUNS, "seed": SEED,
                           "compare": {"actor": "challenger", "strategies": ["deniable", "loud"]}})
    for name in ("deniable", "loud"):
        assert _probabilities(result["outcomes"][name]) == _probabilities(expected.strategies[name])
    assert result["posterior"]["particles"] == 3
    # the downloaded report says so too, naming the file but not the server's folders
    report = client.get(f"/api/jobs/{result['id']}/report.html").text
    assert f"{SCENARIO_ID}.posterior.parquet (3 particles)" in report and str(calibrated.parent) not in report


def test_an_upload_runs_from_the_priors_and_says_so(client, calibrated):
    text = calibrated.read_text()
    r = client.post("/api/uploads", content=text.encode(), headers={"x-filename": calibrated.name})
    assert r.status_code == 201 and r.json()["posterior"] is False
    result = _job(client, {"scenario": r.json()["ref"], "runs": RUNS, "seed": SEED})
    assert result["posterior"] is None and result["origin"] == "upload"
    expected = simulate(scenario_from_text(text), runs=RUNS, seed=SEED)
    assert _probabilities(result["outcomes"]["run"]) == _probabilities(outcome_summary(expected))


def test_shipped_posterior_is_the_file_beside_the_scenario(calibrated):
    loaded = load_scenario(calibrated)
    assert shipped_posterior(loaded).particles == 3
    assert shipped_posterior(loaded, prior=True) is None
    assert shipped_posterior(load_scenario(EXAMPLE)) is None  # nothing beside it
    assert shipped_posterior(scenario_from_text(calibrated.read_text())) is None  # no file at all


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, None, [True]])
def test_a_bad_prior_is_a_400_that_names_it(client, value):
    r = client.post("/api/jobs", json={"scenario": SCENARIO_ID, "prior": value})
    assert r.status_code == 400
    assert r.json()["error"].startswith("prior must be true or false, got ")
