"""The CLI contract: JSON keys, exit codes, reproducibility, as users and scripts drive it."""
from __future__ import annotations

import json

from tests.conftest import redline_cli


def _json(*args):
    r = redline_cli(*args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_list_and_validate():
    listing = _json("list")
    ids = [s["id"] for s in listing["scenarios"]]
    assert "proxy-deterrence" in ids
    v = _json("validate", "proxy-deterrence", "--strict")
    assert v["valid"] and v["warnings"] == []


def test_run_json_contract():
    out = _json("run", "proxy-deterrence", "--runs", "2000", "--horizon", "52", "--seed", "7",
                "--strategy", "challenger=loud", "--param", "defender_credibility=0.5")
    for key in ("scenario", "scenario_sha256", "version", "runs", "horizon", "seed", "strategies", "params",
                "outcomes", "final_state", "elapsed_s"):
        assert key in out
    assert out["runs"] == 2000 and out["horizon"] == 52 and out["seed"] == 7
    assert out["strategies"] == {"challenger": "loud"} and out["params"]["defender_credibility"] == 0.5
    war = out["outcomes"]["open_war"]
    assert war["ci95"][0] <= war["probability"] <= war["ci95"][1] and war["median_week"] > 0
    assert set(out["final_state"]["tension"]) == {"mean", "p05", "p95"}
    again = _json("run", "proxy-deterrence", "--runs", "2000", "--horizon", "52", "--seed", "7",
                  "--strategy", "challenger=loud", "--param", "defender_credibility=0.5")
    assert again["outcomes"] == out["outcomes"]


def test_compare_json_contract():
    out = _json("compare", "proxy-deterrence", "--actor", "challenger", "--strategies", "deniable,loud",
                "--runs", "2000", "--seed", "1")
    assert set(out["strategies"]) == {"deniable", "loud"}
    d = out["differences"][0]
    assert set(d) == {"a", "b", "outcome", "difference", "ci95"}
    same = _json("compare", "proxy-deterrence", "--actor", "challenger", "--strategies", "loud,loud",
                 "--runs", "1000", "--seed", "1")
    assert all(x["difference"] == 0 for x in same["differences"])


def test_bad_options_exit_2_with_choices():
    cases = [
        (("run", "proxy-deterrence", "--strategy", "challenger=typo"), "strategies: "),
        (("run", "proxy-deterrence", "--param", "defender_credibilty=1"), "did you mean"),
        (("run", "proxy-deterrence", "--param", "defender_credibility=7"), "outside its range"),
        (("run", "proxy-deterrence", "--param", "defender_credibility"), "NAME=VALUE"),
        (("compare", "proxy-deterrence", "--actor", "defender", "--strategies", "a,b"), "unknown strategy"),
        (("run", "no-such-scenario"), "bundled"),
    ]
    for args, fragment in cases:
        r = redline_cli(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert fragment in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_trace_lists_every_element_with_provenance():
    out = _json("trace", "proxy-deterrence")
    assert out["unsourced"] == []
    assert out["elements"]["actions.proxy_attack"]["source"]["id"] == "baliga2020"
    assert "assumption" in out["elements"]["uncertainties.casualty_sensitivity"]


def test_run_out_writes_a_result_directory(tmp_path):
    out = _json("run", "proxy-deterrence", "--runs", "300", "--horizon", "20", "--out", str(tmp_path / "res"))
    from redline.results import load_result

    summary, datasets = load_result(tmp_path / "res")
    assert summary["kind"] == "run" and summary["outcomes"] == out["outcomes"]
    assert datasets["run"]["trajectory"].shape[0] == 20
