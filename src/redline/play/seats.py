"""Seats: who plays an actor from outside the engine.

A seat answers ``observe`` messages with ``act`` answers (see :mod:`redline.play.protocol`):

* :class:`CommandAgent` — a program speaking JSON Lines on its stdin/stdout (``agent:cmd:COMMAND``);
* :class:`HttpAgent` — a server answering one HTTP POST per message (``agent:http://HOST:PORT/PATH``);
* :class:`LLMAgent` — any OpenAI-compatible chat-completions endpoint (``llm:URL:MODEL``);
* :class:`ReplaySeat` — the choices recorded in a game log (``redline replay``);
* the terminal seat for a person lives in :mod:`redline.play.terminal`.

Every wait is bounded by the seat's timeout: a seat that crashes, hangs or answers garbage raises
:class:`~redline.play.protocol.BadAnswer` with one line saying so, never blocks the game.
"""
from __future__ import annotations

import json
import os
import queue
import re
import shlex
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from redline.errors import ParameterError
from redline.play.protocol import BadAnswer

__all__ = ["Seat", "CommandAgent", "HttpAgent", "LLMAgent", "ReplaySeat", "parse_seat_spec", "DEFAULT_TIMEOUT_S"]

DEFAULT_TIMEOUT_S = 30.0
"""Seconds a seat may take to answer one ``observe`` message (``--agent-timeout``)."""


class Seat:
    """Base seat: ``ask`` returns the raw answer (text or a parsed dict) to one ``observe`` message."""

    label = "seat"
    batched = True  # whether one message may carry many runs (a person plays one run at a time)

    def prepare(self, request, loaded) -> None:
        """Called before each ``ask`` with the engine's request and the scenario (a person's seat
        shows expected one-step effects from it); agents see only the message."""

    def ask(self, observe: dict) -> str | dict:
        raise NotImplementedError

    def end(self, message: dict) -> None:
        """Tell the seat the game is over (best effort: a seat that is gone is not waited for)."""

    def close(self) -> None:
        """Release what the seat holds (processes, connections); safe to call twice."""


class CommandAgent(Seat):
    """An agent program: one JSON line in on its stdin per message, one JSON line out per answer."""

    def __init__(self, command: str, *, timeout: float = DEFAULT_TIMEOUT_S):
        self.command = command
        self.timeout = timeout
        self.label = f"agent '{_short(command)}'"
        try:
            argv = shlex.split(command)
        except ValueError as err:
            raise ParameterError(f"--seat agent:cmd: cannot split the command {command!r}: {err}") from None
        if not argv:
            raise ParameterError("--seat agent:cmd: needs a command, e.g. agent:cmd:python my_agent.py")
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                         bufsize=0)
        except OSError as err:
            raise ParameterError(f"--seat agent:cmd: cannot start {argv[0]!r}: {err.strerror or err}") from None
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in iter(self.proc.stdout.readline, b""):
            if line.strip():
                self._lines.put(line)
        self._lines.put(None)  # end of output: the agent exited or closed stdout

    def _last_stderr(self) -> str:
        self._stderr.seek(0)
        lines = [x for x in self._stderr.read().decode("utf-8", "replace").splitlines() if x.strip()]
        return f": {lines[-1].strip()[:160]}" if lines else ""

    def _send(self, message: dict, deadline: float) -> None:
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        failure: list[BaseException] = []

        def write():
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError) as err:
                failure.append(err)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        writer.join(max(0.0, deadline - time.monotonic()))
        if writer.is_alive():
            raise BadAnswer(f"{self.label} did not read its input within {self.timeout:g} s (--agent-timeout)")
        if failure:
            raise self._exited()

    def _exited(self) -> BadAnswer:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        how = "closed its output" if code is None else f"exited with code {code}"
        return BadAnswer(f"{self.label} {how}{self._last_stderr()}")

    def ask(self, observe: dict) -> str:
        try:
            extra = self._lines.get_nowait()
        except queue.Empty:
            extra = False
        if extra is None:
            raise self._exited()
        if extra:  # an answer nobody asked for would be taken for the next week's
            raise BadAnswer(f"{self.label} wrote more than one line for week {observe['week'] - 1} "
                            f"(stdout is for protocol messages only; log to stderr): {extra[:60]!r}")
        deadline = time.monotonic() + self.timeout
        self._send(observe, deadline)
        try:
            line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise BadAnswer(f"{self.label} gave no answer to week {observe['week']} within {self.timeout:g} s "
                            "(--agent-timeout)") from None
        if line is None:
            raise self._exited()
        return line.decode("utf-8", "replace")

    def end(self, message: dict) -> None:
        if self.proc.poll() is None:
            try:
                self._send(message, time.monotonic() + min(self.timeout, 5.0))
            except BadAnswer:
                pass

    def close(self) -> None:
        proc = self.proc
        if proc.poll() is None:
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()  # the agent we started, by its own handle
                proc.wait()
        self._stderr.close()


class HttpAgent(Seat):
    """An agent behind HTTP: each message is POSTed as JSON; the response body is the answer."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT_S):
        if not re.match(r"^https?://[^/\s]+", url):
            raise ParameterError(f"--seat agent: expected http://HOST:PORT/PATH, got {url!r}")
        self.url = url
        self.timeout = timeout
        self.label = f"agent {url}"

    def _post(self, message: dict) -> bytes:
        return _post_json(self.url, message, self.timeout, self.label)

    def ask(self, observe: dict) -> bytes:
        return self._post(observe)

    def end(self, message: dict) -> None:
        try:
            self._post(message)
        except BadAnswer:
            pass


def _post_json(url: str, payload: dict, timeout: float, label: str, headers: dict | None = None) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (the user's own URL)
            return resp.read()
    except urllib.error.HTTPError as err:
        raise BadAnswer(f"{label} answered HTTP {err.code} {err.reason}") from None
    except (TimeoutError, OSError) as err:  # URLError is an OSError; socket.timeout is TimeoutError
        reason = getattr(err, "reason", err)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            raise BadAnswer(f"{label} gave no answer within {timeout:g} s (--agent-timeout)") from None
        raise BadAnswer(f"{label} is unreachable: {reason}") from None


class LLMAgent(Seat):
    """A language model through an OpenAI-compatible ``/chat/completions`` endpoint.

    The system prompt describes the scenario from its own descriptions and sources, the actor's
    goals and actions, and the protocol; each user message is an ``observe`` message for up to
    ``batch`` runs; the model must answer with the ``act`` message and nothing else (parsed
    strictly: no prose, no code fences). ``temperature`` is 0. The key, if the endpoint needs
    one, comes from ``$OPENAI_API_KEY``.
    """

    def __init__(self, url: str, model: str, system_prompt: str, *, timeout: float = DEFAULT_TIMEOUT_S,
                 batch: int = 16):
        if not re.match(r"^https?://[^/\s]+", url):
            raise ParameterError(f"--seat llm: expected llm:http://HOST:PORT/PATH:MODEL, got {url!r}")
        self.endpoint = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.system_prompt = system_prompt
        self.timeout = timeout
        self.batch = max(1, int(batch))
        self.label = f"llm {model} at {url}"
        self.requests = 0

    def ask(self, observe: dict) -> dict:
        actions: list = []
        runs = observe["runs"]
        for start in range(0, len(runs), self.batch):
            part = {**observe, "runs": runs[start:start + self.batch]}
            content = self._complete(json.dumps(part, separators=(",", ":")))
            try:
                answer = json.loads(content)
            except ValueError:
                shown = " ".join(content.split())
                raise BadAnswer(f"{self.label}, week {observe['week']}: the reply is not a JSON act message: "
                                f"{shown[:60]!r}{'...' if len(shown) > 60 else ''}") from None
            if not isinstance(answer, dict) or answer.get("type") != "act" or not isinstance(answer.get("actions"), list):
                return answer  # the protocol check names what is wrong
            actions.extend(answer["actions"])
        return {"type": "act", "actions": actions}

    def _complete(self, user: str) -> str:
        payload = {"model": self.model, "temperature": 0,
                   "messages": [{"role": "system", "content": self.system_prompt},
                                {"role": "user", "content": user}]}
        key = os.environ.get("OPENAI_API_KEY")
        raw = _post_json(self.endpoint, payload, self.timeout, self.label,
                         {"Authorization": f"Bearer {key}"} if key else None)
        self.requests += 1
        try:
            reply = json.loads(raw)
            return reply["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise BadAnswer(f"{self.label}: the endpoint's reply is not an OpenAI chat completion") from None


class ReplaySeat(Seat):
    """Answers with the choices recorded in a game log, after checking the observation is the one
    recorded: a replay that sees a different world stops with the first difference."""

    def __init__(self, actor: str, exchanges: list[tuple[dict, dict]], file: str):
        self.actor = actor
        self.exchanges = exchanges
        self.file = file
        self.label = f"replay of {actor}"
        self.position = 0

    def ask(self, observe: dict) -> dict:
        if self.position >= len(self.exchanges):
            raise BadAnswer(f"{self.file}: the log ends before week {observe['week']} of {self.actor}; "
                            "the replay does not match the game")
        (line, logged), answer = self.exchanges[self.position]
        self.position += 1
        if logged != observe:
            raise BadAnswer(f"{self.file}:{line}: replay diverged: {self.actor}'s observation at week "
                            f"{observe['week']} differs from the recorded one{_first_difference(logged, observe)}")
        return {"type": "act", "actions": answer["actions"]}


def _first_difference(a: dict, b: dict) -> str:
    if a.get("week") != b.get("week"):
        return f" (recorded week {a.get('week')})"
    ra, rb = a.get("runs", []), b.get("runs", [])
    if [r["run"] for r in ra] != [r["run"] for r in rb]:
        return " (different runs asked)"
    for x, y in zip(ra, rb):
        for key in ("visible", "options"):
            for name in sorted(set(x[key]) | set(y[key])):
                if x[key].get(name) != y[key].get(name):
                    return f" (run {x['run']}, {name}: recorded {x[key].get(name)!r}, now {y[key].get(name)!r})"
    return ""


def parse_seat_spec(text: str) -> tuple[str, str, dict[str, Any]]:
    """``ACTOR=KIND[:...]`` -> (actor, kind, details); kinds: human, web, agent (cmd/http), llm."""
    if "=" not in text:
        raise ParameterError(f"--seat expects ACTOR=human, ACTOR=agent:cmd:COMMAND, ACTOR=agent:http://HOST:PORT/PATH "
                             f"or ACTOR=llm:URL:MODEL, got {text!r}")
    actor, spec = (x.strip() for x in text.split("=", 1))
    if spec == "human":
        return actor, "human", {}
    if spec.startswith("agent:cmd:"):
        return actor, "cmd", {"command": spec[len("agent:cmd:"):].strip()}
    if spec.startswith("agent:http://") or spec.startswith("agent:https://"):
        return actor, "http", {"url": spec[len("agent:"):]}
    if spec.startswith("llm:"):
        rest = spec[len("llm:"):]
        m = re.match(r"^(https?://[^/\s]+/[^:\s]*):(\S+)$", rest) or re.match(r"^(https?://[^/\s]+):([^:\s/]+)$", rest)
        if not m or m.group(2).isdigit():
            raise ParameterError(f"--seat llm: expected llm:http://HOST:PORT/PATH:MODEL "
                                 f"(e.g. llm:http://127.0.0.1:8000/v1:gpt-4o-mini), got {spec!r}")
        return actor, "llm", {"url": m.group(1), "model": m.group(2)}
    kinds = "human, agent:cmd:COMMAND, agent:http://HOST:PORT/PATH, llm:URL:MODEL"
    raise ParameterError(f"--seat {actor}: unknown seat {spec!r} (seats: {kinds})")


def _short(command: str) -> str:
    return command if len(command) <= 60 else command[:57] + "..."
