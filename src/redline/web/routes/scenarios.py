"""Scenarios: the list, one scenario's controls and picture, and uploads.

``GET /api/scenarios``          bundled scenarios, the server's files and this session's uploads;
                                ``posterior``: whether one ships beside it (jobs draw from it).
``GET /api/scenarios/{ref}``    controls (strategies, parameters), the picture and the provenance.
``POST /api/uploads``           a scenario YAML (raw body or multipart ``file``): validated, kept per
                                session; 201 with the scenario's controls. The body is YAML, not
                                JSON, so it has no request model: it is read with the same size limit
                                and deadlines, and the scenario loader is its parser.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from redline.calibrate import posterior_beside
from redline.errors import RedlineError, ScenarioError
from redline.provenance import element_table
from redline.report.graph import scenario_svg
from redline.scenario import bundled_scenarios, scenario_from_text
from redline.web.context import Ctx
from redline.web.http import MAX_BODY_BYTES, MAX_UPLOAD_BYTES, HTTPProblem, error_payload, read_limited

__all__ = ["router", "scenario_info", "provenance"]

CONTEXT_CHARS = 240
"""Characters of the source text shown either side of a quoted passage."""


def scenario_info(loaded, ref: str, origin: str) -> dict[str, Any]:
    """A scenario's controls for the page: actors and their strategies, parameters, outcomes, and
    whether a posterior ships beside it (then its jobs draw from it unless asked for the priors)."""
    spec = loaded.spec
    strategies: dict[str, list[dict[str, str]]] = {}
    for sid, s in spec.strategies.items():
        strategies.setdefault(s.actor, []).append({"id": sid, "description": s.description})

    def knob(name, u, kind):
        return {"name": name, "kind": kind, "low": u.low, "high": u.high, "default": u.default,
                "unit": u.unit, "description": u.description}

    return {
        "ref": ref, "origin": origin, "posterior": posterior_beside(loaded) is not None,
        "id": spec.meta.id, "title": spec.meta.title,
        "as_of": spec.meta.as_of.isoformat(), "horizon": spec.meta.horizon, "description": spec.meta.description,
        "actors": [{"id": aid, "name": a.name, "kind": a.kind, "default_strategy": a.strategy,
                    "strategies": strategies.get(aid, [])} for aid, a in spec.actors.items()],
        "parameters": [knob(n, u, "uncertainty") for n, u in spec.uncertainties.items()]
                      + [knob(n, u, "lever") for n, u in spec.levers.items()],
        "outcomes": [{"id": o, "description": v.description, "absorbing": v.absorbing}
                     for o, v in spec.outcomes.items()],
        "warnings": loaded.warnings[:50],
    }


def provenance(loaded) -> list[dict[str, Any]]:
    """Each element's source, with the quoted passage in its context when the text is at hand."""
    rows = []
    for eid, entry in element_table(loaded).items():
        row = {"element": eid, **entry}
        src = entry.get("source")
        text = loaded.source_texts.get(src["id"]) if src else None
        if text is not None and src.get("start") is not None:
            lo, hi = max(0, src["start"] - CONTEXT_CHARS), min(len(text), src["end"] + CONTEXT_CHARS)
            row["context"] = {"before": " ".join(text[lo:src["start"]].split()),
                              "passage": " ".join(text[src["start"]:src["end"]].split()),
                              "after": " ".join(text[src["end"]:hi].split())}
        rows.append(row)
    return rows


router = APIRouter()


@router.get("/api/scenarios")
async def scenarios(request: Request, ctx: Ctx):
    rows = [{"ref": sid, "title": f"{loaded.spec.meta.title} ({loaded.path.name})", "origin": "file",
             "posterior": posterior_beside(loaded) is not None} for sid, loaded in ctx.opened.items()]
    for sid in bundled_scenarios():
        try:
            loaded, _ = ctx.loaded(request, sid)
        except RedlineError as err:  # a broken bundled file is listed, not fatal
            rows.append({"ref": sid, "title": f"(invalid: {err})", "origin": "bundled"})
            continue
        rows.append({"ref": sid, "title": loaded.spec.meta.title, "origin": "bundled",
                     "posterior": posterior_beside(loaded) is not None})
    for uid, loaded in request.state.session.uploads.items():
        rows.append({"ref": uid, "title": f"{loaded.spec.meta.title} (uploaded)", "origin": "upload",
                     "posterior": False})  # an upload has no file, so nothing beside it
    return {"scenarios": rows}


@router.get("/api/scenarios/{ref}")
async def scenario(request: Request, ctx: Ctx, ref: str):
    loaded, origin = ctx.loaded(request, ref)
    info = scenario_info(loaded, ref, origin)
    info["graph"] = await ctx.off_loop(scenario_svg, loaded.spec)  # layout is CPU work: off the loop
    info["provenance"] = await ctx.off_loop(provenance, loaded)
    return info


async def _upload_body(request: Request) -> tuple[str, bytes]:
    """The uploaded file's name (sanitised) and bytes, from a raw body or a multipart ``file``."""
    ctype = request.headers.get("content-type", "")
    body = await read_limited(request, MAX_BODY_BYTES)
    name = "upload.yaml"
    if ctype.startswith("multipart/form-data"):
        from starlette.datastructures import UploadFile
        from starlette.formparsers import MultiPartException, MultiPartParser

        async def once():
            yield body

        try:
            form = await MultiPartParser(request.headers, once(), max_files=1, max_fields=5).parse()
        except MultiPartException as err:
            raise HTTPProblem(400, f"bad multipart upload: {err}") from None
        item = form.get("file")
        if not isinstance(item, UploadFile):
            raise HTTPProblem(400, "send the scenario as a form field named 'file'")
        name = Path(item.filename or name).name
        body = await item.read()
    else:
        given = request.headers.get("x-filename")
        if given:
            name = Path(given).name
    if len(body) > MAX_UPLOAD_BYTES:
        raise HTTPProblem(413, f"scenario is {len(body):,} bytes; uploads are limited to {MAX_UPLOAD_BYTES:,}")
    if not body.strip():
        raise HTTPProblem(400, "the upload is empty")
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:80] or "upload.yaml", body


@router.post("/api/uploads", status_code=201)
async def upload(request: Request, ctx: Ctx):
    name, body = await _upload_body(request)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise HTTPProblem(400, f"{name}: not UTF-8 text (byte {err.start}); is this a YAML file?",
                          file=name) from None
    try:
        loaded = await ctx.off_loop(scenario_from_text, text, name=name)  # validation is CPU work
    except RecursionError:
        raise HTTPProblem(400, f"{name}: the document nests too deeply", file=name) from None
    except ScenarioError as err:
        return JSONResponse(error_payload(err), status_code=400)
    uid = ctx.sessions.add_upload(request.state.session, loaded)
    return {"ref": uid, **scenario_info(loaded, uid, "upload")}
