"""The web app's request models and routers, without a server: what a JSON body may hold and the
one message a bad body gets (the routes answer it as ``{"error": message}`` with status 400)."""
from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from pydantic import ValidationError  # noqa: E402

from redline.limits import MAX_HORIZON  # noqa: E402
from redline.web.app import create_app  # noqa: E402
from redline.web.http import HTTPProblem, parse_json, problem_message  # noqa: E402
from redline.web.routes import ROUTERS  # noqa: E402
from redline.web.routes.jobs import MAX_RUNS, JobRequest  # noqa: E402
from redline.web.routes.play import PlayRequest  # noqa: E402


def _message(model, body):
    with pytest.raises(ValidationError) as info:
        model.model_validate(body)
    return problem_message(info.value, model)


def test_job_request_defaults_and_normalisation():
    req = JobRequest.model_validate({"scenario": "s", "runs": 3.0, "strategies": {"a": "x", "b": ""},
                                     "params": {"p": 1}, "compare": {"actor": "a", "strategies": ["x", "y"]}})
    assert req.as_job() == {"scenario": "s", "runs": 3, "seed": 0, "horizon": None, "strategies": {"a": "x"},
                            "params": {"p": 1.0}, "compare": {"actor": "a", "strategies": ["x", "y"]},
                            "prior": False}
    assert JobRequest.model_validate({"scenario": "s", "strategies": None, "params": 0}).runs == 2000


@pytest.mark.parametrize("body, message", [
    ({"scenario": "s", "zeta": 1, "alpha": 2}, "unknown field(s): alpha, zeta"),
    ({"scenario": 3}, "say which scenario"),
    ({}, "say which scenario"),
    ({"scenario": "s", "runs": True}, "runs must be a number (and finite), got true"),
    ({"scenario": "s", "runs": MAX_RUNS + 1}, f"runs must be in 1..{MAX_RUNS:g}"),
    ({"scenario": "s", "runs": 2.5}, "runs must be a whole number, got 2.5"),
    ({"scenario": "s", "horizon": MAX_HORIZON + 1}, f"horizon must be in 1..{MAX_HORIZON}"),
    ({"scenario": "s", "seed": 2**63}, "seed must be in"),
    ({"scenario": "s", "strategies": {"a": 1}}, "strategies must map actor -> strategy name"),
    ({"scenario": "s", "params": [1]}, "params must map name -> number"),
    ({"scenario": "s", "params": {"p": "x"}}, "parameter p must be a number"),
    ({"scenario": "s", "compare": {"actor": "a", "strategies": ["x"]}}, "compare must be"),
    ({"scenario": "s", "compare": {"actor": "a", "strategies": ["x", "x"]}}, "pick two different"),
    ({"scenario": "s", "prior": "yes"}, 'prior must be true or false, got "yes"'),
    ({"scenario": "s", "runs": 0, "seed": -1}, "runs must be in"),  # the first field in the model's order
])
def test_job_request_messages(body, message):
    assert message in _message(JobRequest, body)


def test_play_request_whole_numbers():
    assert PlayRequest.model_validate({"scenario": "s", "actor": "a", "seed": "7", "horizon": ""}).seed == 7
    assert "whole numbers" in _message(PlayRequest, {"seed": 2.5})  # was truncated to 2 before
    assert "horizon within" in _message(PlayRequest, {"horizon": 0})
    assert "seed must be >= 0" in _message(PlayRequest, {"seed": -1})


@pytest.mark.parametrize("raw, message", [
    (b'{"a": NaN}', "standard JSON"), (b'{"a": 1e400}', "finite"), (b"[" * 20 + b"]" * 20, "nests"),
    (b"{oops", "must be JSON"),
])
def test_parse_json_refuses_non_standard_json(raw, message):
    with pytest.raises(HTTPProblem) as info:
        parse_json(raw)
    assert info.value.status == 400 and message in info.value.message
    assert parse_json(b"") == {}


def test_every_router_answers_through_the_app():
    from fastapi.testclient import TestClient

    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as client:
        assert client.get("/api/health").json() == {"ok": True}  # pages
        assert client.get("/api/scenarios").status_code == 200  # scenarios
        assert "unknown job" in client.get("/api/jobs/job-0").json()["error"]  # jobs
        assert "--store" in client.get("/api/store").json()["error"]  # store
        assert "unknown game" in client.get("/api/play/game-0").json()["error"]  # play
        assert client.app.app.state.web.sessions is client.app.app.state.sessions
    assert len(ROUTERS) == 5


def test_pages_carry_the_limits_the_app_checks():
    import re

    from fastapi.testclient import TestClient

    from redline.limits import MAX_WEB_RUNS
    from redline.web.http import MAX_UPLOAD_BYTES

    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as client:
        index, play = client.get("/").text, client.get("/play").text
    assert re.search(r'id="runs"[^>]*max="(\d+)"', index).group(1) == str(MAX_WEB_RUNS) == str(MAX_RUNS)
    assert re.search(r'data-max-bytes="(\d+)"', index).group(1) == str(MAX_UPLOAD_BYTES)
    assert re.search(r'id="play-horizon"[^>]*max="(\d+)"', play).group(1) == str(MAX_HORIZON)
    assert "{{" not in index + play


def test_fill_page_refuses_a_placeholder_it_does_not_know():
    from redline.web.context import fill_page

    assert fill_page(b"<i max={{MAX_HORIZON}}>") == f"<i max={MAX_HORIZON}>".encode()
    with pytest.raises(KeyError, match="MAX_NOPE"):
        fill_page(b"{{MAX_NOPE}}")
