"""The sweep store given to ``redline serve --store FILE``.

``GET /api/store``               its kind and summary, and whether sensitivity and PRIM results exist.
``GET /api/store/report.html``   its report (built once per server: sensitivity and PRIM take seconds).

Both are sync routes: FastAPI runs them in a worker thread, so building does not block the loop.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from redline.web.context import Ctx, WebContext
from redline.web.http import HTTPProblem

__all__ = ["router", "store_input"]


def store_input(store: Path):
    """The sweep store as a report input, with its sensitivity indices and PRIM boxes computed."""
    from redline.analysis import sweep_analyses
    from redline.report.inputs import load_input, with_analyses

    return with_analyses(load_input(store), sweep_analyses(store))


def _data(ctx: WebContext):
    if ctx.store is None:
        raise HTTPProblem(404, "no store: start the app with --store FILE")
    if "data" not in ctx.store_cache:
        ctx.store_cache["data"] = store_input(ctx.store)
    return ctx.store_cache["data"]


router = APIRouter()


@router.get("/api/store")
def store_info(ctx: Ctx):
    data = _data(ctx)
    return {"kind": data.kind, "summary": {k: v for k, v in data.summary.items() if k != "datasets"},
            "has_sensitivity": bool(data.sensitivity), "has_prim": bool(data.prim_boxes)}


@router.get("/api/store/report.html")
def store_report(ctx: Ctx):
    from redline.report import build_html

    data = _data(ctx)
    if "html" not in ctx.store_cache:
        ctx.store_cache["html"] = build_html(data)
    return Response(ctx.store_cache["html"], media_type="text/html; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="sweep-report.html"'})
