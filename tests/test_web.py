"""The web app's HTTP contract: pages, uploads, jobs, downloads; bad input, traversal, limits, isolation."""
from __future__ import annotations

import io
import time

import pytest
import yaml

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from tests.conftest import EXAMPLE  # noqa: E402
from redline.results import outcome_summary  # noqa: E402
from redline.experiments.compare import compare, simulate  # noqa: E402
from redline.web import create_app  # noqa: E402
from redline.web.app import MAX_RUNS, MAX_UPLOAD_BYTES  # noqa: E402

EXAMPLE_TEXT = EXAMPLE.read_text()
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8))


@pytest.fixture(scope="module")
def app():
    return create_app()


LOCAL = "http://127.0.0.1:8000"  # the app answers only to local names (Host check, issue 20)


@pytest.fixture
def client(app):
    with TestClient(app, base_url=LOCAL) as c:
        yield c


def _other(app) -> TestClient:
    return TestClient(app, base_url=LOCAL)


def wait(client: TestClient, jid: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{jid}", params={"wait": 2}).json()
        if job["status"] in ("done", "error"):
            return job
    raise AssertionError(f"job {jid} did not finish in {timeout} s")


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and "redline" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    for name in ("app.js", "app.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in page.headers["content-security-policy"]


@pytest.mark.parametrize("path", [
    "/static/../app.py", "/static/..%2fapp.py", "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/%2e%2e/%2e%2e/etc/passwd", "/../../../../etc/passwd", "/static//etc/passwd",
    "/static/app.js%00.css", "/api/scenarios/..%2f..%2fetc%2fpasswd", "/api/scenarios/%2Fetc%2Fpasswd",
    "/api/jobs/..%2f..%2fetc%2fpasswd/results.csv",
])
def test_path_traversal_is_refused(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert "root:" not in r.text and "import" not in r.text
    assert r.headers["content-type"].startswith("application/json")


def test_scenario_list_and_details(client):
    refs = [s["ref"] for s in client.get("/api/scenarios").json()["scenarios"]]
    assert "proxy-deterrence" in refs
    info = client.get("/api/scenarios/proxy-deterrence").json()
    assert {a["id"] for a in info["actors"]} >= {"challenger", "defender"}
    challenger = next(a for a in info["actors"] if a["id"] == "challenger")
    assert {s["id"] for s in challenger["strategies"]} == {"deniable", "loud", "chooser"}
    assert any(p["name"] == "attribution_probability" and p["low"] == 0.05 for p in info["parameters"])
    assert info["graph"].startswith("<svg")
    assert any(r["element"] == "outcomes.open_war" for r in info["provenance"])


def test_unknown_scenario_is_404_with_a_suggestion(client):
    r = client.get("/api/scenarios/proxy-deterence")
    assert r.status_code == 404 and "did you mean 'proxy-deterrence'" in r.json()["error"]
    r = client.post("/api/jobs", json={"scenario": "no-such-thing"})
    assert r.status_code == 404


def test_run_matches_the_python_api(client):
    r = client.post("/api/jobs", json={"scenario": "proxy-deterrence", "runs": 400, "seed": 7,
                                       "strategies": {"challenger": "loud"},
                                       "params": {"attribution_probability": 0.5}})
    assert r.status_code == 202
    job = wait(client, r.json()["id"])
    assert job["status"] == "done", job["error"]
    expected = outcome_summary(simulate("proxy-deterrence", runs=400, seed=7, strategies={"challenger": "loud"},
                                        params={"attribution_probability": 0.5}))
    got = job["result"]["outcomes"]["run"]
    for outcome, s in expected.items():
        assert got[outcome]["probability"] == s["probability"]
        assert got[outcome]["ci95"] == pytest.approx(s["ci95"])
    assert {"outcomes", "timing", "state"} <= set(job["result"]["charts"])


def test_compare_job_matches_the_python_api(client):
    r = client.post("/api/jobs", json={"scenario": "proxy-deterrence", "runs": 300, "seed": 2,
                                       "compare": {"actor": "challenger", "strategies": ["deniable", "loud"]}})
    job = wait(client, r.json()["id"])
    assert job["status"] == "done", job["error"]
    expected = compare("proxy-deterrence", actor="challenger", strategies=["deniable", "loud"], runs=300, seed=2)
    for name in ("deniable", "loud"):
        for outcome, s in expected.strategies[name].items():
            assert job["result"]["outcomes"][name][outcome]["probability"] == s["probability"]
    assert len(job["result"]["differences"]) == len(expected.differences)


@pytest.mark.parametrize("body, status, message", [
    ({"scenario": "proxy-deterrence", "params": {"attribution_probability": 5}}, 400, "outside its range"),
    ({"scenario": "proxy-deterrence", "params": {"nope": 1}}, 400, "unknown"),
    ({"scenario": "proxy-deterrence", "params": {"attribution_probability": "x"}}, 400, "must be a number"),
    ({"scenario": "proxy-deterrence", "runs": MAX_RUNS + 1}, 400, "runs must be in"),
    ({"scenario": "proxy-deterrence", "runs": 0}, 400, "runs must be in"),
    ({"scenario": "proxy-deterrence", "runs": 2.5}, 400, "whole number"),
    ({"scenario": "proxy-deterrence", "seed": -1}, 400, "seed must be in"),
    ({"scenario": "proxy-deterrence", "horizon": 5000}, 400, "horizon must be in"),
    ({"scenario": "proxy-deterrence", "strategies": {"challenger": "sneaky"}}, 400, "unknown strategy"),
    ({"scenario": "proxy-deterrence", "strategies": {"ghost": "loud"}}, 400, "unknown actor"),
    ({"scenario": "proxy-deterrence", "compare": {"actor": "challenger", "strategies": ["loud", "loud"]}}, 400,
     "two different"),
    ({"scenario": "proxy-deterrence", "evil": 1}, 400, "unknown field"),
    ({"runs": 10}, 400, "which scenario"),
])
def test_bad_job_requests_are_4xx_json(client, body, status, message):
    r = client.post("/api/jobs", json=body)
    assert r.status_code == status
    assert message in r.json()["error"]


def test_malformed_and_oversized_job_bodies(client):
    assert client.post("/api/jobs", content=b"{not json", headers={"content-type": "application/json"}).status_code == 400
    assert client.post("/api/jobs", content=b"[1, 2]", headers={"content-type": "application/json"}).status_code == 400
    assert client.post("/api/jobs", content=b"[1, 2]").status_code == 415  # a body must say it is JSON
    big = b'{"scenario": "' + b"x" * 2_000_000 + b'"}'
    assert client.post("/api/jobs", content=big, headers={"content-type": "application/json"}).status_code == 413


def test_upload_valid_scenario_and_run_it(client):
    r = client.post("/api/uploads", content=EXAMPLE_TEXT.encode(), headers={"x-filename": "mine.yaml"})
    assert r.status_code == 201, r.text
    ref = r.json()["ref"]
    assert ref.startswith("upload-")
    assert ref in [s["ref"] for s in client.get("/api/scenarios").json()["scenarios"]]
    job = wait(client, client.post("/api/jobs", json={"scenario": ref, "runs": 200, "seed": 1}).json()["id"])
    assert job["status"] == "done"
    expected = outcome_summary(simulate(EXAMPLE, runs=200, seed=1))
    assert {o: s["probability"] for o, s in job["result"]["outcomes"]["run"].items()} == \
           {o: s["probability"] for o, s in expected.items()}


def test_multipart_upload(client):
    r = client.post("/api/uploads", files={"file": ("x.yaml", io.BytesIO(EXAMPLE_TEXT.encode()), "text/yaml")})
    assert r.status_code == 201, r.text


def _hostile_expression() -> str:
    doc = yaml.safe_load(EXAMPLE_TEXT)
    doc["outcomes"]["open_war"]["condition"] = "__import__('os').system('touch /tmp/pwned')"
    return yaml.safe_dump(doc, sort_keys=False)


def _misspelt_variable() -> str:
    assert "exit: if(tension < 60" in EXAMPLE_TEXT
    return EXAMPLE_TEXT.replace("exit: if(tension < 60", "exit: if(tenson < 60")


@pytest.mark.parametrize("payload, fragment, needs_line", [
    (b"meta:\n  id: x\n  title: [unclosed\n", "YAML", True),
    (b"!!python/object/apply:os.system ['touch /tmp/pwned']\n", "tag", True),
    (BOMB.encode(), "alias", False),
    (_hostile_expression().encode(), "", True),
    (_misspelt_variable().encode(), "did you mean 'tension'", True),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "UTF-8", False),
    (b"just a sentence, not a scenario", "mapping", False),
    (b"   \n", "empty", False),
])
def test_bad_uploads_give_located_errors(client, payload, fragment, needs_line):
    r = client.post("/api/uploads", content=payload, headers={"x-filename": "bad.yaml"})
    assert r.status_code == 400, r.text
    body = r.json()
    assert fragment in body["error"]
    if needs_line:
        assert isinstance(body["line"], int) and body["line"] >= 1
    assert client.get("/api/health").json() == {"ok": True}  # still serving


def test_hostile_expression_does_not_run(client, tmp_path):
    import os

    client.post("/api/uploads", content=_hostile_expression().encode())
    assert not os.path.exists("/tmp/pwned")


def test_upload_size_limit(client):
    big = b"# padding\n" * (MAX_UPLOAD_BYTES // 10 + 10)
    r = client.post("/api/uploads", content=big)
    assert r.status_code == 413 and "limit" in r.json()["error"]
    # a chunked body (no Content-Length) is counted as it streams
    r = client.post("/api/uploads", content=iter([b"# pad\n" * 100_000] * 3))
    assert r.status_code == 413


def test_sessions_do_not_see_each_others_uploads_or_jobs(app):
    with TestClient(app, base_url=LOCAL) as alice, TestClient(app, base_url=LOCAL) as bob:
        ref = alice.post("/api/uploads", content=EXAMPLE_TEXT.encode()).json()["ref"]
        jid = alice.post("/api/jobs", json={"scenario": ref, "runs": 100}).json()["id"]
        assert ref not in [s["ref"] for s in bob.get("/api/scenarios").json()["scenarios"]]
        assert bob.get(f"/api/scenarios/{ref}").status_code == 404
        assert bob.post("/api/jobs", json={"scenario": ref}).status_code == 404
        assert bob.get(f"/api/jobs/{jid}").status_code == 404
        assert bob.get(f"/api/jobs/{jid}/results.csv").status_code == 404
        assert wait(alice, jid)["status"] == "done"
        assert alice.get(f"/api/jobs/{jid}/results.csv").status_code == 200


def test_downloads(client):
    import pandas as pd

    jid = client.post("/api/jobs", json={"scenario": "proxy-deterrence", "runs": 150, "seed": 4,
                                         "compare": {"actor": "challenger", "strategies": ["deniable", "loud"]}}
                      ).json()["id"]
    assert wait(client, jid)["status"] == "done"
    csv = client.get(f"/api/jobs/{jid}/results.csv")
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    frame = pd.read_csv(io.StringIO(csv.text))
    assert len(frame) == 300 and set(frame["strategy"]) == {"deniable", "loud"}
    assert {"defender_leaves_week", "final_tension", "count_proxy_attack"} <= set(frame.columns)
    parquet = client.get(f"/api/jobs/{jid}/results.parquet")
    assert parquet.status_code == 200
    assert pd.read_parquet(io.BytesIO(parquet.content)).shape == frame.shape
    report = client.get(f"/api/jobs/{jid}/report.html")
    assert report.status_code == 200
    assert "<svg" in report.text and 'src="http' not in report.text and "deniable − loud" in report.text


def test_downloads_wait_for_the_job(client):
    assert client.get("/api/jobs/job-0000000000000000/results.csv").status_code == 404


def test_long_runs_do_not_block_the_server(client):
    jid = client.post("/api/jobs", json={"scenario": "proxy-deterrence", "runs": 30_000}).json()["id"]
    started = time.monotonic()
    assert client.get("/api/scenarios").status_code == 200
    assert client.get(f"/api/jobs/{jid}").json()["status"] in ("queued", "running")
    assert time.monotonic() - started < 2
    assert wait(client, jid)["status"] == "done"


def test_cli_serve_refuses_a_missing_store():
    from tests.conftest import redline_cli

    proc = redline_cli("serve", "--store", "/no/such.duckdb")
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_no_store_is_a_404(client):
    r = client.get("/api/store")
    assert r.status_code == 404 and "--store" in r.json()["error"]
