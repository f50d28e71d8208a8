"""A local fake of an OpenAI-compatible chat-completions server with a canned policy, for tests and
the docs' LLM-versus-policy comparison (no real model, no network).

Run: ``python -m tests.fake_openai --port 8011`` then ``--seat challenger=llm:http://127.0.0.1:8011/v1:canned-hawk``.

Models (the request's ``model`` picks one):

* ``canned-hawk`` — reads the ``observe`` message in the last user turn and, per run, strikes
  overtly while ``tension`` is below 40, attacks through proxies otherwise, and never stands
  down: a stand-in for the escalation-prone play Rivera et al. (2024) report for LLM agents. A
  canned rule, labelled as such; it measures the adapter, not a language model.
* ``prose`` — answers in prose (the adapter must refuse it);
* ``wrong-action`` — names an action that is not offered;
* ``slow`` — sleeps 5 s before answering.
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["canned_hawk", "serve"]


def canned_hawk(observe: dict) -> dict:
    actions = []
    for run in observe["runs"]:
        choose = {}
        for track, options in run["options"].items():
            tension = run["visible"].get("tension") or 0.0
            if "overt_strike" in options and tension < 40:
                choose[track] = "overt_strike"
            elif "proxy_attack" in options:
                choose[track] = "proxy_attack"
            else:
                choose[track] = None
        actions.append({"run": run["run"], "choose": choose})
    return {"type": "act", "actions": actions}


class _Handler(BaseHTTPRequestHandler):
    requests_seen = 0

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):  # noqa: N802 (http.server's name)
        if not self.path.endswith("/chat/completions"):
            self.send_error(404)
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        type(self).requests_seen += 1
        model = body.get("model", "canned-hawk")
        observe = json.loads(body["messages"][-1]["content"])
        if model == "prose":
            content = "I would carefully weigh a proxy attack here."
        elif model == "wrong-action":
            content = json.dumps({"type": "act", "actions": [{"run": r["run"], "choose": {"military": "nuke"}}
                                                              for r in observe["runs"]]})
        else:
            if model == "slow":
                time.sleep(5)
            content = json.dumps(canned_hawk(observe))
        reply = {"id": "fake", "object": "chat.completion", "model": model,
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": content}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def serve(port: int = 0) -> ThreadingHTTPServer:
    """Start the fake server on 127.0.0.1 in a daemon thread; ``server.server_address[1]`` is its port."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8011)
    args = parser.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), _Handler)
    print(f"fake OpenAI-compatible server on http://127.0.0.1:{args.port}/v1", flush=True)
    srv.serve_forever()
