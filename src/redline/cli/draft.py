"""``redline draft``: a sourced scenario skeleton, claims and a review page from an article."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from redline.cli.app import app
from redline.cli.common import console, emit_json, handle_errors, out_console
from redline.errors import Location, ParameterError

__all__ = ["draft"]


def _scenario_id(value: str | None, article: Path) -> str:
    if value is not None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", value):
            raise ParameterError(f"--id must be lower-case letters, digits and '-' (e.g. iran-us-draft), got '{value}'")
        return value
    base = re.sub(r"[^a-z0-9]+", "-", article.stem.lower()).strip("-")[:50] or "article"
    return f"{base}-draft" if base[0].isalnum() else "article-draft"


def _as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ParameterError(f"--as-of needs a date YYYY-MM-DD, got '{value}'") from None


def _source_beside(article: Path, text: str, out: Path) -> str:
    """The article's path relative to the draft, copying it beside the draft when it lies elsewhere.

    A scenario may only read source texts below its own folder (or $REDLINE_SOURCES), so a draft
    written away from its article gets a copy, and its quotes keep working.
    """
    folder = out.resolve().parent
    where = article.resolve()
    if where.is_relative_to(folder):
        return where.relative_to(folder).as_posix()
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / article.name
    if copy.exists() and copy.read_text(encoding="utf-8", errors="replace") != text:
        copy = folder / f"{out.stem}.article.txt"
    copy.write_text(text, encoding="utf-8")
    return copy.name


@app.command()
@handle_errors
def draft(
    article: Path = typer.Argument(..., help="The article: a UTF-8 text file (at most 1 MB)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the scenario skeleton here (YAML); the "
                                       "claims (.claims.yaml) and review page (.review.md, .review.html) go beside it."),
    scenario_id: Optional[str] = typer.Option(None, "--id", help="Scenario id (default: from the file name)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="As-of date YYYY-MM-DD (default: first date in the text)."),
    llm: Optional[str] = typer.Option(None, "--llm", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 "
                                      "(or set REDLINE_LLM_URL); it proposes, redline anchors every offset."),
    model: Optional[str] = typer.Option(None, "--model", help="Model name for --llm (or REDLINE_LLM_MODEL)."),
    llm_timeout: float = typer.Option(60.0, "--llm-timeout", help="Seconds per LLM request before giving up."),
    offline_fallback: bool = typer.Option(True, "--fallback/--no-fallback",
                                          help="If the LLM fails, draft offline with a warning (default) or stop."),
    evaluate: Optional[Path] = typer.Option(None, "--evaluate", help="Score the draft against a gold annotation "
                                            "(format: shared/seed/ANNOTATION.md)."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
) -> None:
    """Draft a sourced scenario from an analysis article: actors, typed claims with offsets, a skeleton
    that validates, a review page, and what the analyst must still decide."""
    from redline.draft import read_article

    t0 = time.perf_counter()
    text = read_article(article)
    sid = _scenario_id(scenario_id, article)
    date = _as_of(as_of)
    url = llm or os.environ.get("REDLINE_LLM_URL")
    status = console.status(f"drafting {article.name}...") if not json_out else contextlib.nullcontext()
    with status:
        ex, skeleton, scores, files, validation = _run(article, text, out, sid, date, url, model, llm_timeout,
                                                       offline_fallback, evaluate)
    seconds = round(time.perf_counter() - t0, 3)
    _report(article, ex, skeleton, scores, files, validation, seconds, evaluate, json_out)


def _run(article, text, out, sid, date, url, model, llm_timeout, offline_fallback, evaluate):
    from redline.draft import build_skeleton, extract, extract_with_llm, load_gold, score, to_yaml
    from redline.draft.review import review_html, review_markdown

    if url:
        from redline.draft.llm import LLMError

        try:
            ex = extract_with_llm(text, url, model, timeout=llm_timeout, fallback=offline_fallback)
        except LLMError as err:
            raise ParameterError(err.message, Location(url)) from None
    else:
        ex = extract(text)
    from rich.markup import escape

    for w in ex.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(w)}")
    source_text = None
    if out is not None:
        source_text = _source_beside(article, text, out)
    skeleton = build_skeleton(ex, scenario_id=sid, article_id="article", as_of=date, source_text=source_text)
    title = skeleton.scenario["meta"]["title"]
    scores = None
    if evaluate is not None:
        scores = score(ex, load_gold(evaluate, text))

    files: dict[str, str] = {}
    validation = None
    if out is not None:
        from redline.scenario.load import scenario_from_text

        import yaml

        header = (f"Drafted by `redline draft` from {article.name} ({ex.backend}).\n"
                  "Every element points at its sentence (source.start/end: character offsets in the article).\n"
                  "Numbers the article does not give are labelled assumptions with wide ranges.")
        body = to_yaml(skeleton, header=header)
        loaded = scenario_from_text(body, name=str(out))  # never write a draft that does not validate
        validation = {"errors": 0, "warnings": len(loaded.warnings)}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(body, encoding="utf-8")
        stem = out.with_suffix("")
        claims_path = Path(f"{stem}.claims.yaml")
        claims_doc = {"article": source_text, "backend": ex.backend,
                      "actors": [{k: v for k, v in a.to_dict().items() if k != "evidence"} for a in ex.actors],
                      "claims": [{k: v for k, v in c.to_dict().items() if k not in ("sentence",)} for c in ex.claims]}
        claims_path.write_text("# Actors and claims drafted by `redline draft` (gold-annotation format, "
                               "shared/seed/ANNOTATION.md).\n" + yaml.safe_dump(claims_doc, sort_keys=False,
                                                                                allow_unicode=True, width=110,
                                                                                default_flow_style=None),
                               encoding="utf-8")
        md_path, html_path = Path(f"{stem}.review.md"), Path(f"{stem}.review.html")
        md_path.write_text(review_markdown(ex, skeleton, title=title, scores=scores), encoding="utf-8")
        html_path.write_text(review_html(ex, skeleton, title=title, scores=scores), encoding="utf-8")
        files = {"scenario": str(out), "claims": str(claims_path), "review_md": str(md_path),
                 "review_html": str(html_path)}
    return ex, skeleton, scores, files, validation


def _report(article, ex, skeleton, scores, files, validation, seconds, evaluate, json_out) -> None:
    if json_out:
        if scores is not None:
            payload = dict(scores)
        else:
            payload = {}
        payload.update({
            "article": str(article), "backend": ex.backend, "seconds": seconds, "warnings": ex.warnings,
            "actors_found": [a.to_dict() for a in ex.actors] if scores is not None else None,
            "claims_found": [c.to_dict() for c in ex.claims] if scores is not None else None,
            "files": files, "validation": validation, "decide": skeleton.decide,
        })
        if scores is None:
            payload["actors"] = [a.to_dict() for a in ex.actors]
            payload["claims"] = [c.to_dict() for c in ex.claims]
            del payload["actors_found"], payload["claims_found"]
        emit_json(payload)
        return
    from rich.markup import escape
    from rich.table import Table

    counts: dict[str, int] = {}
    for c in ex.claims:
        counts[c.type] = counts.get(c.type, 0) + 1
    out_console.print(f"[bold]{escape(article.name)}[/bold] ({ex.backend}, {seconds:.2f} s): {len(ex.actors)} actors, "
                      f"{len(ex.claims)} claims (" + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ")")
    table = Table(title="actors")
    for col in ("actor", "kind", "aliases", "mentions"):
        table.add_column(col)
    for a in ex.actors:
        table.add_row(escape(a.name), a.kind, escape(", ".join(a.aliases)), str(len(a.mentions)))
    out_console.print(table)
    if scores is not None:
        a, c = scores["actors"], scores["claims"]
        out_console.print(f"score vs {evaluate.name}: actors P {a['precision']:.2f} R {a['recall']:.2f} "
                          f"F1 [bold]{a['f1']:.2f}[/bold]; claims P {c['precision']:.2f} R {c['recall']:.2f} "
                          f"F1 [bold]{c['f1']:.2f}[/bold]; types {scores['types']['accuracy']:.2f}; "
                          f"modality {scores['modality']['accuracy']:.2f}")
    if files:
        out_console.print(f"scenario {files['scenario']} (validates; {validation['warnings']} warning(s)), "
                          f"claims {files['claims']}, review {files['review_html']} and {files['review_md']}")
        out_console.print(f"{len(skeleton.decide)} decisions left to the analyst (listed at the top of the scenario "
                          "and in the review page)")
    elif scores is None:
        out_console.print("give --out DRAFT.yaml to write the scenario skeleton and the review page")
    sys.stdout.flush()
