"""The review page of a draft: the article with each claim highlighted by type and linked to the
scenario element drafted from it, the actors with their mentions, and what the analyst must decide.

Two renderings of the same content: Markdown (for a repository or an editor) and one
self-contained HTML file (inline CSS, no script, no network).
"""
from __future__ import annotations

import html
from typing import Any

from redline.draft.model import CLAIM_TYPES, Extraction
from redline.draft.skeleton import Skeleton

__all__ = ["review_markdown", "review_html", "TYPE_COLOURS"]

TYPE_COLOURS = {
    "event": "#d9d9d9", "aim": "#b3e2cd", "threat": "#fbb4ae", "red_line": "#e41a1c", "option": "#b3cde3",
    "conditional": "#decbe4", "estimate": "#fed9a6", "modal_assessment": "#ffffcc",
}


def _elements(sk: Skeleton | None, claim_id: str) -> list[str]:
    return [] if sk is None else sk.elements.get(claim_id, [])


def _prob(c) -> str:
    if not c.probability:
        return ""
    p = c.probability
    return f"{c.modality} → {p['low']:.0%}–{p['high']:.0%} ({p['read_as']}, {p['scheme']})"


def review_markdown(ex: Extraction, sk: Skeleton | None, *, title: str, scores: dict[str, Any] | None = None) -> str:
    """The review page as Markdown."""
    lines = [f"# Draft review: {title}", ""]
    lines.append(f"Drafted by `redline draft` ({ex.backend}): {len(ex.actors)} actors, {len(ex.claims)} claims. "
                 "Each highlighted passage is a claim; its number links to the table below, which names the "
                 "scenario element drafted from it.")
    lines.append("")
    for w in ex.warnings:
        lines.append(f"> warning: {w}")
    if scores:
        a, c = scores["actors"], scores["claims"]
        lines += ["", f"Scored against the gold annotation: actors F1 {a['f1']:.2f}, claims F1 {c['f1']:.2f}, "
                      f"types {scores['types']['accuracy']:.2f}, modality {scores['modality']['accuracy']:.2f}.", ""]
    lines += ["## Article", ""]
    text = ex.text
    pos = 0
    out = []
    for n, c in enumerate(sorted(ex.claims, key=lambda c: c.start), 1):
        if c.start < pos:
            continue
        out.append(text[pos:c.start])
        anchor = text[c.start:c.end].replace("\n", " ")
        out.append(f"**⟦{anchor}⟧**<sup>[{n}·{c.type}](#claim-{n})</sup>")
        pos = c.end
    out.append(text[pos:])
    for para in "".join(out).split("\n"):
        if para.strip():
            lines += [para.strip(), ""]
    lines += ["## Claims", "", "| # | type | anchor | offsets | probability | drafted element |",
              "| --- | --- | --- | --- | --- | --- |"]
    for n, c in enumerate(sorted(ex.claims, key=lambda c: c.start), 1):
        anchor = c.anchor_text.replace("|", "\\|").replace("\n", " ")
        els = ", ".join(f"`{e}`" for e in _elements(sk, c.id)) or "—"
        lines.append(f"| <a id=\"claim-{n}\"></a>{n} | {c.type} | {anchor} | {c.start}–{c.end} | {_prob(c)} | {els} |")
    lines += ["", "## Actors", "", "| actor | kind | aliases | mentions |", "| --- | --- | --- | --- |"]
    for a in ex.actors:
        lines.append(f"| {a.name} | {a.kind} | {', '.join(a.aliases)} | {len(a.mentions)} |")
    if sk is not None:
        lines += ["", "## What the analyst must decide", ""]
        lines += [f"- `{d['element']}`: {d['decide']}" for d in sk.decide]
    return "\n".join(lines) + "\n"


_CSS = """
body{font:15px/1.55 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 6px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.article{background:#fff;border:1px solid #ddd;border-radius:6px;padding:18px 22px}
.article p{margin:0 0 12px}
mark{padding:1px 2px;border-radius:3px;color:inherit}
mark a{color:#333;text-decoration:none;font-size:11px;vertical-align:super;margin-left:2px}
mark.red_line{color:#fff} mark.red_line a{color:#fff}
.actor{border-bottom:2px solid #377eb8}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f0f0f0} tr:target{outline:2px solid #377eb8}
.legend span{display:inline-block;padding:1px 6px;margin:2px;border-radius:3px;font-size:12px}
.warn{background:#fff3cd;border:1px solid #e0c36b;padding:6px 10px;border-radius:4px}
code{font-size:12px}
"""


def _mark_article(ex: Extraction) -> str:
    text = ex.text
    claims = []
    pos = -1
    for n, c in enumerate(sorted(ex.claims, key=lambda c: c.start), 1):
        if c.start >= pos:
            claims.append((n, c))
            pos = c.end
    mentions = sorted((s, e, a.name) for a in ex.actors for s, e in a.mentions)
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    for n, c in claims:
        opens.setdefault(c.start, []).append(
            f'<mark class="{c.type}" style="background:{TYPE_COLOURS[c.type]}" title="{html.escape(c.type)}">')
        closes.setdefault(c.end, []).insert(0, f'<a href="#claim-{n}">{n}</a></mark>')
    bounds = [(c.start, c.end) for _, c in claims]
    for s, e, name in mentions:
        inside = [(a, b) for a, b in bounds if a < e and s < b]
        if inside and not all(a <= s and e <= b for a, b in inside):
            continue  # a mention across a claim's edge stays unmarked, so tags nest
        opens.setdefault(s, []).append(f'<span class="actor" title="{html.escape(name)}">')
        closes.setdefault(e, []).insert(0, "</span>")
    out = []
    cuts = sorted(set(opens) | set(closes) | {0, len(text)})
    for i, cut in enumerate(cuts):
        out.extend(closes.get(cut, []))
        out.extend(opens.get(cut, []))
        nxt = cuts[i + 1] if i + 1 < len(cuts) else len(text)
        out.append(html.escape(text[cut:nxt]))
    body = "".join(out)
    paras = [p for p in body.split("\n") if p.strip()]
    return "".join(f"<p>{p}</p>" for p in paras)


def review_html(ex: Extraction, sk: Skeleton | None, *, title: str, scores: dict[str, Any] | None = None) -> str:
    """The review page as one self-contained HTML file (inline CSS, no script, no network)."""
    e = html.escape
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Draft review: {e(title)}</title>"
             f"<style>{_CSS}</style></head><body><main>",
             f"<h1>Draft review: {e(title)}</h1>",
             f"<p>Drafted by <code>redline draft</code> ({e(ex.backend)}): {len(ex.actors)} actors, {len(ex.claims)} "
             "claims. Each highlighted passage is a claim, coloured by type; its number links to the scenario element "
             "drafted from it. Actor mentions are underlined.</p>"]
    for w in ex.warnings:
        parts.append(f'<p class="warn">warning: {e(w)}</p>')
    if scores:
        a, c = scores["actors"], scores["claims"]
        parts.append(f"<p>Scored against the gold annotation: actors F1 <b>{a['f1']:.2f}</b>, claims F1 "
                     f"<b>{c['f1']:.2f}</b>, types <b>{scores['types']['accuracy']:.2f}</b>, modality "
                     f"<b>{scores['modality']['accuracy']:.2f}</b>.</p>")
    parts.append('<p class="legend">' + "".join(
        f'<span style="background:{TYPE_COLOURS[t]};{"color:#fff" if t == "red_line" else ""}">{t}</span>'
        for t in CLAIM_TYPES) + "</p>")
    parts.append(f'<h2>Article</h2><div class="article">{_mark_article(ex)}</div>')
    parts.append("<h2>Claims and drafted elements</h2><table><tr><th>#</th><th>type</th><th>anchor</th>"
                 "<th>offsets</th><th>probability</th><th>drafted element</th></tr>")
    for n, c in enumerate(sorted(ex.claims, key=lambda c: c.start), 1):
        els = "<br>".join(f"<code>{e(x)}</code>" for x in _elements(sk, c.id)) or "—"
        parts.append(f'<tr id="claim-{n}"><td>{n}</td><td><span style="background:{TYPE_COLOURS[c.type]};'
                     f'padding:0 4px;border-radius:3px">{e(c.type)}</span></td><td>{e(c.anchor_text)}</td>'
                     f"<td>{c.start}–{c.end}</td><td>{e(_prob(c))}</td><td>{els}</td></tr>")
    parts.append("</table><h2>Actors</h2><table><tr><th>actor</th><th>kind</th><th>aliases</th><th>mentions</th></tr>")
    for a in ex.actors:
        parts.append(f"<tr><td>{e(a.name)}</td><td>{e(a.kind)}</td><td>{e(', '.join(a.aliases))}</td>"
                     f"<td>{len(a.mentions)}</td></tr>")
    parts.append("</table>")
    if sk is not None:
        parts.append("<h2>What the analyst must decide</h2><ul>")
        parts += [f"<li><code>{e(d['element'])}</code>: {e(d['decide'])}</li>" for d in sk.decide]
        parts.append("</ul>")
    parts.append("</main></body></html>\n")
    return "".join(parts)
