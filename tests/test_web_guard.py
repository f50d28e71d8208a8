"""The web app under attack (issue 20): Host/Origin checks, declared body types, sessions only when
needed, no eviction of live sessions, bounded JSON, body deadlines, global job and memory caps,
and a bounded property test that no request body gets a 500."""
from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from redline.web import create_app  # noqa: E402
from redline.web.guard import BodyError, read_body  # noqa: E402
from redline.web.jobs import Busy, SessionStore  # noqa: E402
from tests.conftest import EXAMPLE  # noqa: E402

LOCAL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.fixture
def client(app):
    with TestClient(app, base_url=LOCAL) as c:
        yield c


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "10.0.0.5"])
def test_foreign_host_headers_are_refused(app, host):
    """DNS rebinding: a hostile name resolving to 127.0.0.1 arrives with its own Host header."""
    with TestClient(app, base_url=f"http://{host}") as c:
        r = c.get("/api/scenarios")
    assert r.status_code == 403 and "Host" in r.json()["error"]


def test_local_names_and_the_served_host_are_accepted():
    for base in ("http://localhost:8000", "http://127.0.0.1", "http://[::1]:8000"):
        with TestClient(create_app(), base_url=base) as c:
            assert c.get("/api/health").status_code == 200, base
    with TestClient(create_app(hosts=("lab.internal",)), base_url="http://lab.internal:8000") as c:
        assert c.get("/api/health").status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example:8000"])
def test_cross_origin_requests_are_refused(client, origin):
    r = client.post("/api/jobs", json={"scenario": "proxy-deterrence", "runs": 10}, headers={"Origin": origin})
    assert r.status_code == 403
    r = client.post("/api/jobs", json={"scenario": "proxy-deterrence", "runs": 10},
                    headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_same_origin_browser_requests_pass(client):
    r = client.post("/api/jobs", json={"scenario": "no-such"}, headers={"Origin": LOCAL})
    assert r.status_code == 404  # reached the route


@pytest.mark.parametrize("path, ctype", [("/api/jobs", "text/plain"), ("/api/jobs", None),
                                         ("/api/jobs", "application/x-www-form-urlencoded"),
                                         ("/api/uploads", "text/plain"),
                                         ("/api/uploads", "application/x-www-form-urlencoded")])
def test_bodies_must_declare_an_accepted_type(client, path, ctype):
    """A cross-origin 'simple' POST (text/plain, forms) never reaches a route."""
    headers = {"content-type": ctype} if ctype else {}
    r = client.post(path, content=b'{"scenario": "proxy-deterrence"}', headers=headers)
    assert r.status_code == 415


def test_anonymous_requests_create_no_session(app, client):
    store = app.app.state.sessions
    before = len(store)
    for _ in range(60):
        r = client.get("/api/scenarios")
        assert "set-cookie" not in r.headers
    assert len(store) == before


def test_anonymous_traffic_never_evicts_a_live_session():
    store = SessionStore(limit=3, idle_s=3600)
    alice = store.keep(store.get(None))
    alice.uploads["upload-x"] = object()
    others = [store.keep(store.get(None)) for _ in range(2)]
    with pytest.raises(Busy):
        store.keep(store.get(None))
    assert store.get(alice.id) is alice and "upload-x" in alice.uploads
    idle = SessionStore(limit=1, idle_s=0.0)
    old = idle.keep(idle.get(None))
    new = idle.keep(idle.get(None))  # an idle session with no running job may make room
    assert idle.get(old.id).stored is False and idle.get(new.id) is new
    assert others


@pytest.mark.parametrize("body", [b'{"scenario": "proxy-deterrence", "runs": Infinity}',
                                  b'{"scenario": "proxy-deterrence", "runs": 1e400}',
                                  b'{"scenario": "proxy-deterrence", "params": {"x": 1e400}}',
                                  b'{"scenario": "proxy-deterrence", "runs": NaN}',
                                  b'{"a": ' * 5000 + b"1" + b"}" * 5000,
                                  b"[" * 100_000])
def test_non_finite_and_deep_json_are_400_not_500(client, body):
    r = client.post("/api/jobs", content=body, headers={"content-type": "application/json"})
    assert r.status_code in (400, 413), r.text


def test_partial_bodies_time_out():
    async def stalls():
        yield b'{"scenario": '
        await asyncio.sleep(10)
        yield b"1}"

    with pytest.raises(BodyError) as err:
        asyncio.run(read_body(stalls(), 1000, total_s=5, chunk_s=0.2))
    assert err.value.status == 408

    async def trickles():
        for _ in range(100):
            yield b" "
            await asyncio.sleep(0.05)

    with pytest.raises(BodyError) as err:
        asyncio.run(read_body(trickles(), 1000, total_s=0.5, chunk_s=0.2))
    assert err.value.status == 408


def test_global_job_cap_and_memory_budget():
    with TestClient(create_app(max_active_jobs=1), base_url=LOCAL) as c:
        first = c.post("/api/jobs", json={"scenario": "proxy-deterrence", "runs": 5_000})
        assert first.status_code == 202
        with TestClient(c.app, base_url=LOCAL) as other:  # another browser: the cap is global
            second = other.post("/api/jobs", json={"scenario": "proxy-deterrence", "runs": 100})
        assert second.status_code == 503 and "limit" in second.json()["error"]
    with TestClient(create_app(job_memory=1_000_000), base_url=LOCAL) as c:
        r = c.post("/api/jobs", json={"scenario": "proxy-deterrence", "runs": 20_000})
        assert r.status_code == 503 and "needs about" in r.json()["error"]


def test_upload_validation_and_picture_run_off_the_event_loop(client):
    r = client.post("/api/uploads", content=EXAMPLE.read_bytes(), headers={"content-type": "application/yaml"})
    assert r.status_code == 201
    ref = r.json()["ref"]
    assert "set-cookie" in r.headers  # a session is created only now, to keep the upload
    assert client.get(f"/api/scenarios/{ref}").json()["graph"].startswith("<svg")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["proxy-deterrence", "iran-us-2020", "upload-0000000000000000"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10)
FIELDS = st.sampled_from(["scenario", "runs", "seed", "horizon", "strategies", "params", "compare", "other"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(FIELDS, JSON_VALUES, max_size=5) | JSON_VALUES)
def test_jobs_api_never_answers_500(client, body):
    if isinstance(body, dict):
        body["runs"] = min(abs(body["runs"]), 50) if isinstance(body.get("runs"), int) else body.get("runs", 20)
        # bounded: no long simulations in a property test
    r = client.post("/api/jobs", content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    assert r.status_code in (202, 400, 404, 409, 413, 503), (r.status_code, r.text[:200])
    assert "error" in r.json() or r.status_code == 202
