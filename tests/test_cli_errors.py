"""Errors on the command line: one located line on stderr, exit 2, and with ``--json`` the same
error as JSON on stdout for every kind of mistake (scenario, option value, usage)."""
from __future__ import annotations

import json

import pytest

from tests.conftest import redline_cli, write_yaml


def _error(r):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    payload = json.loads(r.stdout)
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"file", "line", "column", "message"}
    return payload["error"]


def test_scenario_error_is_located_json(tmp_path, example_doc):
    example_doc["outcomes"]["open_war"]["condition"] = "tensoin >= 90"
    path = write_yaml(tmp_path / "typo.yaml", example_doc)
    err = _error(redline_cli("validate", str(path), "--json"))
    assert err["file"] == str(path) and err["line"] > 1 and err["column"] > 1
    assert "did you mean 'tension'" in err["message"]
    # the human line on stderr says the same, located
    plain = redline_cli("validate", str(path))
    assert plain.returncode == 2 and plain.stdout == ""
    assert plain.stderr.startswith(f"{path}:{err['line']}:{err['column']}: unknown name 'tensoin'")


@pytest.mark.parametrize("args, fragment", [
    (("run", "no-such-scenario"), "bundled"),
    (("run", "proxy-deterrence", "--runs", "0"), "--runs"),
    (("run", "proxy-deterrence", "--bogus"), "--bogus"),
    (("validate",), "scenario"),
    (("breakout", "--no-such-option"), "--no-such-option"),
    (("compare", "proxy-deterrence", "--actor", "defender", "--strategies", "a,b"), "unknown strategy"),
])
def test_every_kind_of_error_is_json_with_json(args, fragment):
    err = _error(redline_cli(*args, "--json"))
    assert fragment in err["message"]


def test_without_json_stdout_stays_empty_on_error():
    r = redline_cli("run", "proxy-deterrence", "--runs", "0")
    assert r.returncode == 2 and r.stdout == ""
