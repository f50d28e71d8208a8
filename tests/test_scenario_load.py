"""Loading scenarios: every bad input is refused with file:line:col, quickly, executing nothing."""
from __future__ import annotations

import re
import time

import pytest

from redline.errors import RedlineError, ScenarioError
from redline.scenario import bundled_scenarios, load_scenario, scenario_from_dict
from tests.conftest import EXAMPLE, redline_cli, write_yaml

LOCATED = re.compile(r"^\S+:\d+:\d+: ")


def _error(path) -> str:
    with pytest.raises(RedlineError) as err:
        load_scenario(path)
    return str(err.value)


def test_bundled_scenarios_validate():
    assert "proxy-deterrence" in bundled_scenarios()
    for sid in bundled_scenarios():
        loaded = load_scenario(sid)
        assert loaded.id == sid
        assert len(loaded.sha256) == 64


def test_example_is_strictly_sourced_and_uses_every_feature():
    loaded = load_scenario("proxy-deterrence", strict=True)
    spec = loaded.spec
    assert any(a.attribution is not None for a in spec.actions.values()), "covert action with attribution"
    assert any("last=" in str(r.condition) for r in spec.red_lines.values()), "windowed red line"
    assert any(o.absorbing for o in spec.outcomes.values()), "absorbing outcome"
    assert len(spec.strategies) >= 2 and spec.uncertainties and spec.levers
    assert {p.kind for p in loaded.program.strategies["challenger"].values()} == {"scripted", "logit"}
    assert any(p.anticipate for p in loaded.program.strategies["challenger"].values()), "anticipating chooser"
    assert any(len(r.responses) > 1 and r.cooldown_weeks for r in loaded.program.red_lines), "graded response"
    assert spec.regimes, "a regime with entry and exit hazards"


def test_hash_ignores_formatting(tmp_path, example_doc):
    a = write_yaml(tmp_path / "a.yaml", example_doc)
    b = tmp_path / "b.yaml"
    b.write_text("# a comment\n" + a.read_text())
    assert load_scenario(a).sha256 == load_scenario(b).sha256


def _bad_files(tmp_path, example_doc):
    marker = tmp_path / "pwned"
    cases = {}

    def doc_case(name, mutate):
        d = __import__("copy").deepcopy(example_doc)
        mutate(d)
        cases[name] = write_yaml(tmp_path / f"{name}.yaml", d)

    def text_case(name, text):
        p = tmp_path / f"{name}.yaml"
        p.write_text(text) if isinstance(text, str) else p.write_bytes(text)
        cases[name] = p

    text_case("syntax", "meta:\n  id: [unclosed\n")
    text_case("python_tag", f"meta: !!python/object/apply:os.system ['touch {marker}']\n")
    text_case("python_name", "meta: !!python/name:os.system\n")
    text_case("custom_tag", "meta: !include other.yaml\n")
    text_case("alias_bomb", "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                            "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n")
    text_case("deep_yaml", "a: " + "[" * 200 + "]" * 200 + "\n")
    text_case("not_utf8", b"meta:\n  id: \xff\xfe\n")
    text_case("oversized", "meta:\n  description: |\n" + ("    " + "x" * 96 + "\n") * 60000)
    text_case("duplicate_key", EXAMPLE.read_text().replace("  tension_decay:", "  support_recovery:"))
    text_case("nan", EXAMPLE.read_text().replace("default: 0.3\n", "default: .nan\n", 1))
    text_case("inf", EXAMPLE.read_text().replace("initial: 1000", "initial: .inf"))
    text_case("huge", EXAMPLE.read_text().replace("initial: 1000", "initial: 1e300"))
    doc_case("unknown_top_key", lambda d: d.update(actor={}))
    doc_case("unknown_nested_key", lambda d: d["actions"]["proxy_attack"].update(efects=[]))
    doc_case("unknown_actor", lambda d: d["actions"]["proxy_attack"].update(actor="challengr"))
    doc_case("unknown_variable", lambda d: d["actions"]["proxy_attack"]["effects"][0].update(var="casualties_wek"))
    doc_case("unknown_source", lambda d: d["state"]["tension"].update(source={"id": "rivera2042"}))
    doc_case("unknown_name_in_expr", lambda d: d["red_lines"]["two_attributed_attacks"].update(condition="tensoin > 3"))
    doc_case("duplicate_id_across_sections", lambda d: d["uncertainties"].update(tension=d["uncertainties"]["casualty_sensitivity"]))
    doc_case("probability_above_one", lambda d: d["strategies"]["deniable"]["policy"]["probabilities"].update(proxy_attack=1.5))
    doc_case("credibility_negative", lambda d: d["red_lines"]["two_attributed_attacks"].update(credibility=-0.2))
    doc_case("bad_tag", lambda d: d["actions"]["proxy_attack"].update(tags=["covert", "sneaky"]))
    doc_case("empty_range", lambda d: d["uncertainties"]["casualty_sensitivity"].update(low=0.5, high=0.1))
    for name, text in {
        "import_expr": f"__import__('os').system('touch {marker}')",
        "dunder": "week.__class__",
        "lambda": "(lambda: 1)()",
        "comprehension": "[a for a in week]",
        "deep_nesting": "(" * 5000 + "1" + ")" * 5000,
    }.items():
        doc_case(name, lambda d, t=text: d["red_lines"]["two_attributed_attacks"].update(condition=t))
    return cases, marker


EXPECTED = {
    "unknown_top_key": "did you mean 'actors'",
    "unknown_nested_key": "did you mean 'effects'",
    "unknown_actor": "did you mean 'challenger'",
    "unknown_variable": "did you mean 'casualties_week'",
    "unknown_source": "did you mean 'rivera2024'",
    "unknown_name_in_expr": "did you mean 'tension'",
    "bad_tag": "not allowed",
    "python_tag": "not allowed",
    "alias_bomb": "alias/anchor bomb",
    "duplicate_key": "duplicate key 'support_recovery'",
    "duplicate_id_across_sections": "already used",
    "probability_above_one": "outside [0, 1]",
    "credibility_negative": "outside [0, 1]",
    "oversized": "limited to 5 MB",
    "not_utf8": "not valid UTF-8",
    "nan": "not finite",
    "huge": "out of range",
    "empty_range": "empty range",
}


def test_every_bad_input_is_refused_with_a_location(tmp_path, example_doc):
    cases, marker = _bad_files(tmp_path, example_doc)
    for name, path in cases.items():
        started = time.perf_counter()
        message = _error(path)
        assert time.perf_counter() - started < 2.0, name
        assert LOCATED.match(message), (name, message)
        assert str(path) in message, (name, message)
        if name in EXPECTED:
            assert EXPECTED[name] in message, (name, message)
    assert not marker.exists()


def test_locations_point_at_the_offending_line(tmp_path, example_doc):
    cases, _ = _bad_files(tmp_path, example_doc)
    message = _error(cases["unknown_nested_key"])
    line = int(message.split(":")[1])
    assert cases["unknown_nested_key"].read_text().splitlines()[line - 1].strip().startswith("efects")
    message = _error(cases["not_utf8"])
    assert ":2:7:" in message


def test_cli_refuses_bad_input_with_exit_2(tmp_path, example_doc):
    cases, marker = _bad_files(tmp_path, example_doc)
    for name in ("python_tag", "import_expr", "unknown_nested_key", "oversized"):
        r = redline_cli("validate", str(cases[name]))
        assert r.returncode == 2, (name, r.stderr)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        assert LOCATED.match(lines[0])
    assert not marker.exists()


def test_missing_file_and_unknown_bundled_id():
    assert "no such file" in _error("/nonexistent/file.yaml")
    with pytest.raises(ScenarioError, match="did you mean 'proxy-deterrence'"):
        load_scenario("proxy-deterence")


def test_strict_turns_missing_provenance_into_an_error(example_doc):
    del example_doc["state"]["tension"]["source"]
    loaded = scenario_from_dict(example_doc)
    assert any("state.tension" in w for w in loaded.warnings)
    with pytest.raises(ScenarioError, match="neither a source nor an assumption"):
        scenario_from_dict(example_doc, strict=True)


def test_offsets_must_fit_the_local_source_text(tmp_path, example_doc):
    (tmp_path / "text.txt").write_text("short text")
    example_doc["sources"]["local"] = {"title": "A local text", "text": "text.txt"}
    example_doc["state"]["tension"]["source"] = {"id": "local", "start": 0, "end": 5}
    ok = load_scenario(write_yaml(tmp_path / "ok.yaml", example_doc))
    assert ok.source_texts["local"] == "short text"
    example_doc["state"]["tension"]["source"] = {"id": "local", "start": 0, "end": 50}
    assert "run past the end" in _error(write_yaml(tmp_path / "bad.yaml", example_doc))
