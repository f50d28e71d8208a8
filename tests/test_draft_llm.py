"""The optional LLM backend of `redline draft`, against a local fake OpenAI-compatible server."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redline.cli import app
from redline.draft import extract_with_llm
from redline.draft.llm import LLMConfig, LLMError, anchor_quote, endpoint_url, llm_extract

DATA = Path(__file__).resolve().parent / "data" / "draft"
TEXT = (DATA / "kashmir.txt").read_text(encoding="utf-8")

PROPOSAL = {
    "actors": [
        {"name": "India", "kind": "state", "aliases": ["India", "New Delhi", "Bharat"]},
        {"name": "Narendra Modi", "kind": "leader", "aliases": ["Narendra Modi", "Modi"]},
    ],
    "claims": [
        # curly apostrophe folded to a straight one by the model: still anchored
        {"quote": "Pakistan's army has made its red line plain", "type": "red_line", "modality": None},
        {"quote": "A new mass-casualty attack in Kashmir is likely", "type": "modal_assessment", "modality": "likely"},
        {"quote": "about 170 nuclear warheads", "type": "estimate"},
        {"quote": "India invaded Pakistan in 2019", "type": "event"},          # not in the text: dropped
        {"quote": "could close its airspace again", "type": "scenario"},       # unknown type: dropped
        {"quote": "may leave little room", "type": "modal_assessment", "modality": "certainly"},  # modality not inside
    ],
}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output quiet
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        request = json.loads(self.rfile.read(length))
        mode = self.path.split("/")[1]
        if mode == "slow":
            time.sleep(3)
        if mode == "http500":
            self.send_response(500)
            self.end_headers()
            return
        if mode == "notjson":
            body = b"<html>oops</html>"
        elif mode == "badcontent":
            body = json.dumps({"choices": [{"message": {"content": "{\"claims\": [ {\"quote\": }"}}]}).encode()
        else:
            assert request["messages"][-1]["content"].endswith(TEXT[-200:])
            content = "```json\n" + json.dumps(PROPOSAL) + "\n```"
            body = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if mode == "drip":
                for byte in body[:20]:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.2)
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout tests)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_endpoint_url_forms():
    assert endpoint_url("http://h:1/v1") == "http://h:1/v1/chat/completions"
    assert endpoint_url("http://h:1") == "http://h:1/v1/chat/completions"
    assert endpoint_url("http://h:1/v1/chat/completions/") == "http://h:1/v1/chat/completions"
    with pytest.raises(LLMError):
        LLMConfig("ftp://h/x", "m")


def test_anchor_quote_exact_then_folded():
    assert anchor_quote("He said “go” now.", 'said "go"') == (3, 12)
    assert anchor_quote("a  b", "a b") == (0, 4)
    assert anchor_quote("abc", "xyz") is None


def test_llm_proposals_are_anchored_or_dropped(server):
    ex = llm_extract(TEXT, LLMConfig(server + "/ok/v1", "fake", timeout=10))
    assert ex.backend == "llm:fake"
    for c in ex.claims:
        assert TEXT[c.start:c.end] == c.anchor_text
    types = {c.type for c in ex.claims}
    assert types == {"red_line", "modal_assessment", "estimate"}
    modal = [c for c in ex.claims if c.modality]
    assert [c.modality for c in modal] == ["likely"] and modal[0].probability["low"] == 0.55
    assert any("could not be anchored" in w for w in ex.warnings)
    assert any("unknown type" in w for w in ex.warnings)
    india = next(a for a in ex.actors if a.name == "India")
    assert "Bharat" not in india.aliases and "New Delhi" in india.aliases
    assert all(TEXT[s:e] in india.aliases for s, e in india.mentions)


@pytest.mark.parametrize("mode, expected", [
    ("slow", "did not answer within"), ("drip", "did not answer within"), ("http500", "HTTP 500"), ("notjson", "did not return JSON"),
    ("badcontent", "malformed"),
])
def test_failing_endpoint_gives_offline_result_with_warning(server, mode, expected):
    ex = extract_with_llm(TEXT, server + f"/{mode}/v1", "fake", timeout=0.5)
    assert ex.backend == "rules" and ex.claims
    assert any(expected in w for w in ex.warnings)


@pytest.mark.parametrize("mode", ["slow", "drip"])
def test_slow_endpoint_never_holds_past_the_deadline(server, mode):
    t = time.perf_counter()
    with pytest.raises(LLMError, match="did not answer within 0.5 s"):
        llm_extract(TEXT, LLMConfig(server + f"/{mode}/v1", "fake", timeout=0.5))
    assert time.perf_counter() - t < 2.5  # the server takes 3-4 s


def test_endpoint_down_without_fallback_is_an_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    with pytest.raises(LLMError, match="unreachable"):
        extract_with_llm(TEXT, f"http://127.0.0.1:{port}/v1", "fake", timeout=2, fallback=False)


def test_cli_llm_flags(server, tmp_path):
    runner = CliRunner()
    article = DATA / "kashmir.txt"
    res = runner.invoke(app, ["draft", str(article), "--llm", server + "/ok/v1", "--model", "fake", "--json",
                              "--out", str(tmp_path / "d.yaml")])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["backend"] == "llm:fake" and payload["validation"]["errors"] == 0
    res = runner.invoke(app, ["draft", str(article), "--llm", server + "/notjson/v1", "--no-fallback"])
    assert res.exit_code == 2 and "did not return JSON" in res.stderr
    res = runner.invoke(app, ["draft", str(article), "--json"], env={"REDLINE_LLM_URL": server + "/http500/v1"})
    assert res.exit_code == 0 and "HTTP 500" in res.stderr
    assert json.loads(res.stdout)["backend"] == "rules"
