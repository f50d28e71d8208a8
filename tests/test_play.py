"""Seats: the engine's external-policy hook, the protocol, agents, the terminal seat, logs and replay."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from redline import escalation
from redline.play import (
    BadAnswer,
    CommandAgent,
    GameLog,
    HttpAgent,
    LLMAgent,
    parse_answer,
    parse_seat_spec,
    play,
    replay,
    visible_names,
)
from redline.play.prompt import system_prompt
from redline.play.briefing import red_lines_at_risk
from redline.play.terminal import TerminalSeat
from redline.scenario import load_scenario
from tests.conftest import EXAMPLE, redline_cli, write_yaml
from tests.fake_openai import canned_hawk, serve

AGENT = '''import json, sys
pick = sys.argv[1]
for line in sys.stdin:
    msg = json.loads(line)
    if msg["type"] == "observe":
        acts = [{"run": r["run"], "choose": {t: (pick if pick in o else None) for t, o in r["options"].items()}}
                for r in msg["runs"]]
        print(json.dumps({"type": "act", "actions": acts}), flush=True)
    else:
        break
'''


@pytest.fixture
def loud_scenario(tmp_path, example_doc):
    example_doc["strategies"]["always_loud"] = {
        "actor": "challenger", "description": "An overt strike every week.",
        "policy": {"kind": "scripted", "probabilities": {"overt_strike": 1.0}}, "assumption": "test"}
    example_doc["strategies"]["always_proxy"] = {
        "actor": "challenger", "description": "A proxy attack every week.",
        "policy": {"kind": "scripted", "probabilities": {"proxy_attack": 1.0}}, "assumption": "test"}
    return load_scenario(write_yaml(tmp_path / "pd.yaml", example_doc))


def _always(aid):
    def choose(request):
        return {t: np.where(o[aid], list(o).index(aid), -1) if aid in o else np.full(request.runs.size, -1)
                for t, o in request.options.items()}
    return choose


@pytest.mark.parametrize("strategy, action", [("always_loud", "overt_strike"), ("always_proxy", "proxy_attack")])
def test_external_seat_copying_a_strategy_is_identical_under_the_same_seed(loud_scenario, strategy, action):
    # 300 runs over 104 weeks: absorbing outcomes end runs and the block compacts, so the hook
    # must keep global run ids and the random streams aligned.
    asked = []

    def spy(request):
        asked.append(request.runs.copy())
        return _always(action)(request)

    ref = escalation.run(loud_scenario, runs=300, seed=11, strategies={"challenger": strategy})
    got = escalation.run(loud_scenario, runs=300, seed=11, choosers={"challenger": spy})
    for var in ("outcome_week", "final_state", "action_count", "red_line_week", "stopped_week"):
        np.testing.assert_array_equal(ref[var].values, got[var].values, err_msg=var)
    assert asked[0].tolist() == list(range(300))
    assert len(asked[-1]) < 300 and set(asked[-1]) <= set(asked[0].tolist())  # only live runs are asked
    assert json.loads(got.attrs["policies"])["challenger"] == "external"


def test_a_seat_chooses_levels_like_a_scripted_strategy(tmp_path, example_doc):
    example_doc["actions"]["overt_strike"]["levels"] = {"warning_shot": {"lethality": 0.1},
                                                        "lethal": {"lethality": 2.0}}
    example_doc["actions"]["overt_strike"]["effects"][0]["add"] = "poisson(lethality)"
    example_doc["strategies"]["always_lethal"] = {
        "actor": "challenger", "description": "The lethal level every week.",
        "policy": {"kind": "scripted", "probabilities": {"overt_strike.lethal": 1.0}}, "assumption": "test"}
    loaded = load_scenario(write_yaml(tmp_path / "levels.yaml", example_doc))
    seen = []

    def lethal(request):
        if not seen:  # expected() reads the engine's state: valid only during the call
            seen.append((list(request.options["military"]), request.expected("overt_strike.lethal"),
                         request.expected("overt_strike.warning_shot")))
        return {t: np.where(o["overt_strike.lethal"], list(o).index("overt_strike.lethal"), -1)
                for t, o in request.options.items()}

    ref = escalation.run(loaded, runs=300, horizon=40, seed=4, strategies={"challenger": "always_lethal"})
    got = escalation.run(loaded, runs=300, horizon=40, seed=4, choosers={"challenger": lethal})
    for var in ("outcome_week", "final_state", "option_count"):
        np.testing.assert_array_equal(ref[var].values, got[var].values, err_msg=var)
    options, lethal_effect, warning_effect = seen[0]
    assert options == ["proxy_attack", "overt_strike.warning_shot", "overt_strike.lethal"]
    assert float(lethal_effect["casualties_week"][0]) == 2.0
    assert float(warning_effect["casualties_week"][0]) == pytest.approx(0.1)
    prompt = system_prompt(loaded, "challenger", visible_names(loaded, "challenger"))
    assert "overt_strike.warning_shot, overt_strike.lethal" in prompt


def test_a_scheduled_event_takes_the_track_and_the_seat_is_offered_nothing(tmp_path, example_doc):
    example_doc["events"] = [{"date": "2020-01-13", "action": "overt_strike", "assumption": "test"}]
    loaded = load_scenario(write_yaml(tmp_path / "events.yaml", example_doc))
    offered = {}

    def idle(request):
        offered[request.week] = {t: list(o) for t, o in request.options.items()}
        return {t: np.full(request.runs.size, -1) for t in request.options}

    ds = escalation.run(loaded, runs=20, horizon=3, seed=1, choosers={"challenger": idle})
    assert offered[2] == {"military": []} and offered[1]["military"] == ["proxy_attack", "overt_strike"]
    assert ds["action_count"].sel(action="overt_strike").values.tolist() == [1] * 20


def test_a_seat_cannot_take_an_unavailable_action(loud_scenario):
    # The defender's 'retaliate' is never available (a red-line response only): a chooser that
    # insists on it plays exactly as one that never acts on that track.
    def nothing(request):
        return {t: np.full(request.runs.size, -1) for t in request.options}

    kw = dict(runs=200, horizon=30, seed=1, strategies={"challenger": "loud"})
    insists = escalation.run(loud_scenario, choosers={"defender": _always("retaliate")}, **kw)
    idle = escalation.run(loud_scenario, choosers={"defender": nothing}, **kw)
    np.testing.assert_array_equal(insists["action_count"].values, idle["action_count"].values)
    assert int(idle["action_count"].sel(action="retaliate").sum()) > 0  # red-line responses still happen
    with pytest.raises(Exception, match="vectorised engine only"):
        escalation.run(loud_scenario, runs=5, horizon=2, seed=1, engine="reference",
                       choosers={"defender": _always("draw_down")})


def _observe():
    return {"type": "observe", "actor": "challenger", "week": 3, "date": "2020-01-20",
            "runs": [{"run": 4, "visible": {}, "options": {"military": ["proxy_attack", "overt_strike"]}},
                     {"run": 9, "visible": {}, "options": {"military": ["proxy_attack"]}}]}


@pytest.mark.parametrize("answer, fragment", [
    ("not json", "not JSON"),
    ('{"type": "observe"}', "expected {\"type\": \"act\""),
    ('{"type": "act", "actions": [{"run": 4, "choose": {}}, {"run": 7, "choose": {}}]}', "unknown run 7"),
    ('{"type": "act", "actions": [{"run": 4, "choose": {}}, {"run": 9, "choose": {"military": "overt_strike"}}]}',
     "'overt_strike' is not available"),
    ('{"type": "act", "actions": [{"run": 4, "choose": {"militar": null}}, {"run": 9, "choose": {}}]}',
     "did you mean 'military'"),
    ('{"type": "act", "actions": [{"run": 4, "choose": {}}]}', "no answer for run(s) 9"),
    ('{"type": "act", "actions": [{"run": 4, "choose": {}}, {"run": 4, "choose": {}}, {"run": 9, "choose": {}}]}',
     "run 4 answered twice"),
])
def test_protocol_refuses_bad_answers_with_a_clear_message(answer, fragment):
    choices, problems = parse_answer(answer, _observe(), "agent x")
    assert problems and fragment in problems[0], problems
    assert problems[0].startswith("agent x, week 3")
    assert set(choices) == {4, 9}


def test_protocol_accepts_a_good_answer():
    answer = {"type": "act", "actions": [{"run": 9, "choose": {"military": "proxy_attack"}},
                                         {"run": 4, "choose": {"military": None}}]}
    choices, problems = parse_answer(answer, _observe(), "agent x")
    assert problems == [] and choices == {4: {"military": None}, 9: {"military": "proxy_attack"}}


def test_schema_validates_the_messages_a_game_sends(tmp_path, loud_scenario):
    jsonschema = pytest.importorskip("jsonschema")
    from redline.play import SCHEMA

    path = tmp_path / "g.jsonl"
    with open(path, "w") as f:
        play(loud_scenario, {"challenger": CommandAgent(f"{sys.executable} -c '{AGENT}' overt_strike")},
             runs=5, horizon=3, seed=1, log=GameLog(f))
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["type"] == "observe":
            jsonschema.validate(record, SCHEMA)
        if record["type"] == "act":
            jsonschema.validate({"type": "act", "actions": record["actions"]}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"type": "act", "actions": [{"run": "x", "choose": {}}]}, SCHEMA)


def test_hanging_crashing_and_silent_agents_fail_fast_with_one_line(loud_scenario):
    hang = CommandAgent(f"{sys.executable} -c 'import sys, time\nfor l in sys.stdin: time.sleep(600)'", timeout=1.0)
    t = time.monotonic()
    with pytest.raises(BadAnswer, match="no answer to week 1 within 1 s"):
        play(loud_scenario, {"challenger": hang}, runs=3, horizon=3, seed=1)
    assert time.monotonic() - t < 8
    assert hang.proc.poll() is not None  # the hung agent was stopped
    crash = CommandAgent(f"{sys.executable} -c 'import sys; sys.stdin.readline(); sys.exit(\"agent fell over\")'")
    with pytest.raises(BadAnswer, match="exited with code 1: agent fell over"):
        play(loud_scenario, {"challenger": crash}, runs=3, horizon=3, seed=1)


def test_an_agent_that_answers_twice_is_refused_not_misread(loud_scenario):
    twice = AGENT.replace('print(json.dumps({"type": "act", "actions": acts}), flush=True)',
                          'print(json.dumps({"type": "act", "actions": acts}), flush=True); print("debug", flush=True)')
    with pytest.raises(BadAnswer, match="more than one line for week 1|not JSON"):
        play(loud_scenario, {"challenger": CommandAgent(f"{sys.executable} -c '{twice}' overt_strike")},
             runs=3, horizon=3, seed=1)


def test_on_bad_answer_default_plays_no_action_and_logs_a_warning(tmp_path, loud_scenario):
    junk = CommandAgent(f"{sys.executable} -c 'import sys\nfor l in sys.stdin: print(\"nope\", flush=True)'")
    warnings = []
    path = tmp_path / "g.jsonl"
    with open(path, "w") as f:
        ds = play(loud_scenario, {"challenger": junk}, runs=20, horizon=6, seed=3, on_bad_answer="default",
                  log=GameLog(f), warn=warnings.append)
    assert len(warnings) == 6 and "not JSON" in warnings[0] and "using the default (no action)" in warnings[0]
    assert int(ds["action_count"].sel(action=["proxy_attack", "overt_strike"]).sum()) == 0
    logged = [json.loads(x) for x in path.read_text().splitlines()]
    assert sum(r["type"] == "warning" for r in logged) == 6
    assert logged[-1]["type"] == "end" and logged[-1]["warnings"] == 6


def test_visibility_default_hides_the_truth_behind_others_covert_acts(tmp_path, example_doc):
    loaded = load_scenario(EXAMPLE)
    defender = visible_names(loaded, "defender")
    assert "attributed_casualties" in defender and "attacks_attributed_week" in defender and "tension" in defender
    for hidden in ("proxy_attack", "attacks", "casualties_week"):
        assert hidden not in defender
    challenger = visible_names(loaded, "challenger")  # the author knows its own covert acts
    assert {"proxy_attack", "attacks", "casualties_week"} <= set(challenger)
    example_doc["actors"]["defender"]["visibility"] = {"show": ["casualties_week"], "hide": ["host_stance"]}
    adjusted = visible_names(load_scenario(write_yaml(tmp_path / "v.yaml", example_doc)), "defender")
    assert "casualties_week" in adjusted and "host_stance" not in adjusted
    example_doc["actors"]["defender"]["visibility"] = {"hide": ["tensoin"]}
    r = redline_cli("validate", str(write_yaml(tmp_path / "bad.yaml", example_doc)))
    assert r.returncode == 2 and "did you mean 'tension'" in r.stderr and "bad.yaml:" in r.stderr


def test_http_agent_plays_and_an_unreachable_one_is_refused(loud_scenario):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            msg = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = json.dumps(canned_hawk(msg) if msg["type"] == "observe" else {}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/agent"
        ds = play(loud_scenario, {"challenger": HttpAgent(url)}, runs=10, horizon=5, seed=2)
        assert int(ds["action_count"].sel(action="overt_strike").sum()) > 0
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(BadAnswer, match="unreachable"):
        play(loud_scenario, {"challenger": HttpAgent(url, timeout=2)}, runs=2, horizon=2, seed=2)


def test_llm_seat_against_the_fake_server(loud_scenario):
    server = serve()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        prompt = system_prompt(loud_scenario, "challenger", visible_names(loud_scenario, "challenger"))
        assert "proxy_attack" in prompt and "Deterrence with Imperfect Attribution" in prompt
        seat = LLMAgent(base, "canned-hawk", prompt, batch=4)
        ds = play(loud_scenario, {"challenger": seat}, runs=10, horizon=4, seed=5)
        assert seat.requests == 4 * 3  # 10 runs in batches of 4, each week (no run ends by week 4)
        assert int(ds["action_count"].sel(action="overt_strike").sum()) > 0
        for model, fragment in (("prose", "not a JSON act message"), ("wrong-action", "'nuke' is not available")):
            with pytest.raises(BadAnswer, match=fragment):
                play(loud_scenario, {"challenger": LLMAgent(base, model, prompt)}, runs=2, horizon=2, seed=5)
    finally:
        server.shutdown()


def test_seat_specs_parse_and_refuse():
    assert parse_seat_spec("iran=llm:http://127.0.0.1:8011/v1:gpt-4o-mini") == \
        ("iran", "llm", {"url": "http://127.0.0.1:8011/v1", "model": "gpt-4o-mini"})
    assert parse_seat_spec("iran=llm:http://h:1/v1:llama3:8b")[2]["model"] == "llama3:8b"
    assert parse_seat_spec("a=agent:cmd:python x.py")[2] == {"command": "python x.py"}
    assert parse_seat_spec("a=agent:http://h:9/p")[1] == "http"
    for bad in ("a", "a=robot", "a=llm:nourl", "a=llm:http://h:8000"):
        with pytest.raises(Exception):
            parse_seat_spec(bad)


def test_terminal_seat_shows_effects_and_asks_again_on_nonsense(loud_scenario):
    from rich.console import Console

    answers = iter(["attack!", "7", "overt_strike", "0"])
    prompts = []
    console = Console(record=True, width=120, file=open("/dev/null", "w"))

    def read(prompt):
        prompts.append(prompt)
        return next(answers)

    seat = TerminalSeat("challenger", console=console, read=read)
    ds = play(loud_scenario, {"challenger": seat}, runs=1, horizon=2, seed=4)
    text = console.export_text()
    assert len(prompts) == 4  # two refused answers were asked again
    assert "not an option: 'attack!'" in text and "not an option: '7'" in text
    assert "tension +15" in text and "two_attributed_attacks" in text  # expected effect and red line at risk
    assert ds["action_count"].sel(action="overt_strike").values.tolist() == [1]
    assert red_lines_at_risk(loud_scenario, "proxy_attack") == ["two_attributed_attacks"]
    with pytest.raises(Exception, match="one run at a time"):
        play(loud_scenario, {"challenger": TerminalSeat("challenger", read=read)}, runs=5, horizon=2, seed=4)


def test_cli_play_json_has_run_keys_log_replays_exactly_and_tampering_is_caught(tmp_path, loud_scenario):
    agent = tmp_path / "agent.py"
    agent.write_text(AGENT)
    scen = str(loud_scenario.path)
    log = tmp_path / "game.jsonl"
    common = ["--runs", "40", "--horizon", "12", "--seed", "9"]
    ref = redline_cli("run", scen, "--strategy", "challenger=always_proxy", *common, "--json")
    got = redline_cli("play", scen, "--seat", f"challenger=agent:cmd:{sys.executable} {agent} proxy_attack",
                      *common, "--json", "--log", str(log))
    assert got.returncode == 0, got.stderr
    a, b = json.loads(ref.stdout), json.loads(got.stdout)
    assert set(a) == set(b)
    assert {k: v["count"] for k, v in a["outcomes"].items()} == {k: v["count"] for k, v in b["outcomes"].items()}
    again = redline_cli("replay", str(log), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["outcomes"] == b["outcomes"]
    lines = log.read_text().splitlines()
    first_act = next(i for i, x in enumerate(lines) if json.loads(x)["type"] == "act")
    record = json.loads(lines[first_act - 1])
    record["runs"][0]["visible"]["tension"] += 1.0
    lines[first_act - 1] = json.dumps(record)
    (tmp_path / "tampered.jsonl").write_text("\n".join(lines) + "\n")
    bad = redline_cli("replay", str(tmp_path / "tampered.jsonl"))
    assert bad.returncode == 2 and "replay diverged" in bad.stderr and "tension" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_cli_human_seat_reads_stdin_and_compares_with_the_strategies(tmp_path):
    answers = "what?\n" + "1\n" * 3
    r = subprocess.run([sys.executable, "-m", "redline", "play", "proxy-deterrence", "--seat", "challenger=human",
                        "--horizon", "3", "--seed", "1"], input=answers, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "not an option: 'what?'" in r.stderr
    for column in ("you", "deniable", "loud", "chooser"):
        assert column in r.stdout
    closed = subprocess.run([sys.executable, "-m", "redline", "play", "proxy-deterrence", "--seat", "challenger=human",
                             "--horizon", "3"], input="", capture_output=True, text=True, timeout=120)
    assert closed.returncode == 2 and "input closed" in closed.stderr


def _doc_blocks(lang: str) -> list[str]:
    import re

    from tests.conftest import ROOT

    text = (ROOT / "docs" / "play.md").read_text()
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_docs_publish_the_schema_and_a_working_20_line_agent(tmp_path, loud_scenario):
    from redline.play import SCHEMA

    assert json.loads(_doc_blocks("json")[0]) == SCHEMA
    agent = next(b for b in _doc_blocks("python") if "sys.stdin" in b)
    assert len(agent.strip().splitlines()) <= 20
    (tmp_path / "cautious.py").write_text(agent)
    ds = play(loud_scenario, {"challenger": CommandAgent(f"{sys.executable} {tmp_path / 'cautious.py'}")},
              runs=30, horizon=8, seed=1)
    counts = ds["action_count"].sel(action=["proxy_attack", "overt_strike"]).sum("run").values.tolist()
    assert counts[0] > 0 and counts[1] == 0
