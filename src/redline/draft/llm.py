"""An optional LLM backend: any OpenAI-compatible chat-completions endpoint (llama.cpp server,
Ollama, vLLM, a hosted API) *proposes* actors and claims; redline anchors every proposal in the
text and drops what it cannot anchor.

- The endpoint is given as a base URL (``http://127.0.0.1:8080/v1``) or the full
  ``.../chat/completions`` URL; ``REDLINE_LLM_URL`` and ``REDLINE_LLM_MODEL`` stand in for the
  options, ``REDLINE_LLM_API_KEY`` (if set) is sent as a bearer token.
- Every request has one overall deadline (``timeout`` seconds, connect + read), so a slow or
  silent server ends in :class:`LLMError`, never a hang. Malformed answers (not JSON, wrong
  shape) are :class:`LLMError` too; the caller decides between failing and the offline result.
- Anchoring: a claim's ``quote`` must occur in the article (exactly, or after folding curly
  quotes, dashes and runs of spaces, mapped back to the original offsets); its type must be one
  of the eight; a ``modality`` is kept only if it occurs inside the anchor. An actor keeps only
  the aliases that occur whole-word in the text; its mentions are computed by redline, not taken
  from the model.
"""
from __future__ import annotations

import json
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from redline.draft.actors import resolve_overlaps, mention_spans
from redline.draft.model import ACTOR_KINDS, CLAIM_TYPES, DraftActor, DraftClaim, Extraction, slug
from redline.draft.text import sentences
from redline.draft.wep import find_hedges, probability_range
from redline.errors import RedlineError

__all__ = ["LLMError", "LLMConfig", "llm_extract", "endpoint_url", "anchor_quote", "CHUNK_CHARS"]

ENV_URL = "REDLINE_LLM_URL"
ENV_MODEL = "REDLINE_LLM_MODEL"
ENV_KEY = "REDLINE_LLM_API_KEY"
CHUNK_CHARS = 12_000
"""Article text sent per request (paragraph-aligned chunks), well inside small models' context."""
MAX_RESPONSE_BYTES = 2 * 1000 * 1000
"""Largest response body read from the model server (2 MB)."""

_PROMPT = """You annotate an analysis article about a geopolitical crisis for a modeller.
Return ONLY a JSON object: {"actors": [...], "claims": [...]}.
actors: states, armed groups, leaders, institutions, publics the analysis reasons about (not places, not cited \
analysts or outlets). Each: {"name": str, "kind": one of state|armed_group|leader|institution|public|other, \
"aliases": [every surface form exactly as written in the text, no demonyms, no pronouns]}.
claims: assertions a modeller would turn into scenario elements. Each: {"quote": the shortest exact phrase \
from the text carrying the claim (copy it character for character, at most one clause), "type": one of \
aim|threat|option|conditional|estimate|modal_assessment|event|red_line, "modality": the hedge word as written \
inside the quote (may, might, could, likely, unlikely, possible, perhaps, unclear, ...) for modal_assessment, \
else null}.
Types: event = something that happened; aim = a goal; threat = a warning of harm meant to coerce; red_line = a \
declared limit; option = a course of action open to an actor; conditional = if/when X then Y, a 'would' \
hypothetical, X drives Y; estimate = a state, capability or quantity, unhedged; modal_assessment = governed by a \
hedge word inside the quote.

ARTICLE:
"""


class LLMError(RedlineError):
    """The LLM endpoint is down, too slow, or answered something redline cannot use."""


class LLMConfig:
    """Where and how to ask: endpoint URL, model name, overall timeout per request (seconds)."""

    def __init__(self, url: str | None = None, model: str | None = None, timeout: float = 60.0,
                 api_key: str | None = None):
        self.url = url or os.environ.get(ENV_URL) or ""
        self.model = model or os.environ.get(ENV_MODEL) or "default"
        self.timeout = float(timeout)
        self.api_key = api_key if api_key is not None else os.environ.get(ENV_KEY)
        if not self.url:
            raise LLMError(f"no LLM endpoint: give --llm URL or set {ENV_URL}")
        parsed = urllib.parse.urlparse(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise LLMError(f"--llm must be an http(s) URL such as http://127.0.0.1:8080/v1, got '{self.url}'")
        if not 0 < self.timeout <= 3600:
            raise LLMError(f"the LLM timeout must be between 0 and 3600 seconds, got {self.timeout:g}")


def endpoint_url(url: str) -> str:
    """The chat-completions URL for a base URL (``.../v1``) or a full one."""
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if re.search(r"/v\d+$", url):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def _post(cfg: LLMConfig, payload: dict[str, Any]) -> dict[str, Any]:
    """POST JSON with one overall deadline; the parsed JSON answer."""
    deadline = time.monotonic() + cfg.timeout
    body = json.dumps(payload).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if cfg.api_key:
        headers["Authorization"] = f"Bearer {cfg.api_key}"
    req = urllib.request.Request(endpoint_url(cfg.url), data=body, headers=headers, method="POST")
    where = endpoint_url(cfg.url)
    try:
        with urllib.request.urlopen(req, timeout=max(0.1, min(cfg.timeout, 30.0))) as resp:
            chunks = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise LLMError(f"LLM endpoint {where} did not answer within {cfg.timeout:g} s")
                # read1: whatever has arrived, so a server that drips bytes still meets the deadline.
                chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise LLMError(f"LLM endpoint {where} sent more than {MAX_RESPONSE_BYTES:,} bytes")
                chunks.append(chunk)
    except LLMError:
        raise
    except urllib.error.HTTPError as err:
        raise LLMError(f"LLM endpoint {where} answered HTTP {err.code} {err.reason}") from None
    except (socket.timeout, TimeoutError):
        raise LLMError(f"LLM endpoint {where} did not answer within {cfg.timeout:g} s") from None
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise LLMError(f"LLM endpoint {where} did not answer within {cfg.timeout:g} s") from None
        raise LLMError(f"LLM endpoint {where} is unreachable: {reason}") from None
    except (ConnectionError, OSError) as err:
        raise LLMError(f"LLM endpoint {where} failed: {err}") from None
    if time.monotonic() > deadline:
        raise LLMError(f"LLM endpoint {where} did not answer within {cfg.timeout:g} s")
    try:
        return json.loads(b"".join(chunks).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LLMError(f"LLM endpoint {where} did not return JSON") from None


def _content(answer: Any) -> dict[str, Any]:
    """The JSON object inside a chat-completions answer (code fences tolerated)."""
    try:
        content = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LLMError("the LLM answer has no choices[0].message.content (not an OpenAI-compatible reply)") from None
    if not isinstance(content, str):
        raise LLMError("the LLM answer's content is not text")
    m = re.search(r"\{.*\}", content, re.S)
    if not m:
        raise LLMError("the LLM answer holds no JSON object")
    try:
        data = json.loads(m.group())
    except json.JSONDecodeError as err:
        raise LLMError(f"the LLM answer's JSON is malformed ({err.msg} at character {err.pos})") from None
    if not isinstance(data, dict) or not isinstance(data.get("claims", []), list) \
            or not isinstance(data.get("actors", []), list):
        raise LLMError("the LLM answer's JSON lacks lists `actors` and `claims`")
    return data


_FOLD = {"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00a0": " "}


def _folded(text: str) -> tuple[str, list[int]]:
    """Text with quotes/dashes folded and whitespace runs collapsed, and the original index of each character."""
    out, index = [], []
    prev_space = False
    for i, ch in enumerate(text):
        ch = _FOLD.get(ch, ch)
        if ch.isspace():
            if prev_space:
                continue
            ch = " "
            prev_space = True
        else:
            prev_space = False
        out.append(ch)
        index.append(i)
    return "".join(out), index


def anchor_quote(text: str, quote: str, used: set[tuple[int, int]] | None = None,
                 lo: int = 0, hi: int | None = None) -> tuple[int, int] | None:
    """Offsets of ``quote`` in ``text[lo:hi]`` (exact first, then folded), avoiding spans in ``used``."""
    hi = len(text) if hi is None else hi
    quote = quote.strip()
    if len(quote) < 3:
        return None
    start = lo
    while True:
        i = text.find(quote, start, hi)
        if i < 0:
            break
        if not used or (i, i + len(quote)) not in used:
            return i, i + len(quote)
        start = i + 1
    folded, index = _folded(text[lo:hi])
    fq, _ = _folded(quote)
    start = 0
    while True:
        i = folded.find(fq, start)
        if i < 0:
            return None
        s, e = lo + index[i], lo + index[i + len(fq) - 1] + 1
        if not used or (s, e) not in used:
            return s, e
        start = i + 1


def _chunks(text: str) -> list[tuple[int, int]]:
    spans, start, end = [], 0, 0
    for m in re.finditer(r"[^\n]*\n?", text):
        if m.end() - start > CHUNK_CHARS and end > start:
            spans.append((start, end))
            start = end
        end = m.end()
        if not m.group():
            break
    if end > start:
        spans.append((start, end))
    return spans


def llm_extract(text: str, cfg: LLMConfig) -> Extraction:
    """Ask the endpoint for actors and claims, keep what anchors in ``text`` (see the module docstring)."""
    proposals_claims: list[tuple[dict, int, int]] = []
    proposals_actors: list[dict] = []
    for lo, hi in _chunks(text):
        answer = _post(cfg, {"model": cfg.model, "temperature": 0,
                             "messages": [{"role": "system", "content": "You return JSON only."},
                                          {"role": "user", "content": _PROMPT + text[lo:hi]}]})
        data = _content(answer)
        proposals_claims += [(c, lo, hi) for c in data.get("claims", []) if isinstance(c, dict)]
        proposals_actors += [a for a in data.get("actors", []) if isinstance(a, dict)]
    warnings: list[str] = []
    segs = [s for s in sentences(text) if not s.heading]

    # Actors: merge proposals by name, keep aliases found whole-word, mentions computed here.
    merged: dict[str, dict[str, Any]] = {}
    for a in proposals_actors:
        name = str(a.get("name") or "").strip()
        if not name:
            continue
        entry = merged.setdefault(name, {"kind": str(a.get("kind") or "other"), "aliases": set()})
        aliases = a.get("aliases") if isinstance(a.get("aliases"), list) else []
        entry["aliases"] |= {str(x).strip() for x in aliases + [name] if str(x).strip()}
    spans = []
    for name, entry in merged.items():
        for alias in entry["aliases"]:
            spans += [(s, e, f"{name}\x00{alias}") for s, e, _ in mention_spans(text, [alias])]
    chosen = resolve_overlaps(spans)
    actors: list[DraftActor] = []
    taken: set[str] = set()
    dropped_aliases = 0
    for name, entry in merged.items():
        mine = [(s, e, tag.split("\x00", 1)[1]) for s, e, tag in chosen if tag.split("\x00", 1)[0] == name]
        dropped_aliases += len(entry["aliases"] - {a for _, _, a in mine})
        if not mine:
            continue
        kind = entry["kind"] if entry["kind"] in ACTOR_KINDS else "other"
        aliases = sorted({a for _, _, a in mine}, key=lambda x: min(s for s, _, y in mine if y == x))
        actors.append(DraftActor(slug(name, taken), name, kind, aliases, sorted((s, e) for s, e, _ in mine),
                                 ["proposed by the LLM"]))
    actors.sort(key=lambda a: a.mentions[0][0])
    if dropped_aliases:
        warnings.append(f"{dropped_aliases} actor alias(es) proposed by the LLM do not occur in the text: dropped")

    claims: list[DraftClaim] = []
    used: set[tuple[int, int]] = set()
    ctaken: set[str] = set()
    unanchored = bad_type = 0
    mentions = sorted((s, e, a.id) for a in actors for s, e in a.mentions)
    for c, lo, hi in proposals_claims:
        kind = str(c.get("type") or "").strip().lower().replace(" ", "_").replace("-", "_")
        if kind not in CLAIM_TYPES:
            bad_type += 1
            continue
        span = anchor_quote(text, str(c.get("quote") or ""), used, lo, hi)
        if span is None:
            unanchored += 1
            continue
        used.add(span)
        s, e = span
        anchor = text[s:e]
        modality = c.get("modality")
        prob = None
        if kind == "modal_assessment" and isinstance(modality, str) and modality.strip():
            hedges = [h for h in find_hedges(anchor) if modality.strip().lower() in anchor[h[0]:h[1]].lower()
                      or anchor[h[0]:h[1]].lower() in modality.strip().lower()]
            if modality.strip().lower() in anchor.lower() and hedges:
                hs, he, hedge = hedges[0]
                modality = modality.strip()
                prob = probability_range(hedge, modality)
            else:
                modality = None
        else:
            modality = None
        sent = next(((g.start, g.end) for g in segs if g.start <= s < g.end), None)
        named = sorted({aid for ms, me, aid in mentions if s <= ms and me <= e})
        claims.append(DraftClaim(id=slug(f"{kind} {anchor[:40]}", ctaken), start=s, end=e, anchor_text=anchor,
                                 type=kind, claim=f"{kind}: {' '.join(anchor.split())[:160]}", modality=modality,
                                 probability=prob, actors=named, cues=["proposed by the LLM"], sentence=sent))
    claims.sort(key=lambda c: c.start)
    if unanchored:
        warnings.append(f"{unanchored} claim(s) proposed by the LLM could not be anchored in the text: dropped")
    if bad_type:
        warnings.append(f"{bad_type} claim(s) proposed by the LLM had an unknown type: dropped")
    return Extraction(text=text, actors=actors, claims=claims, backend=f"llm:{cfg.model}", warnings=warnings)
