"""The page and its files, and a health probe.

``GET /``                the page; ``GET /static/<file>`` its scripts and stylesheet (an allow-list:
                         only files read from the package at start-up, by exact name, so nothing
                         on disk is reachable).
``GET /api/health``      ``{"ok": true}``.
"""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from redline.web.context import Ctx

__all__ = ["router"]

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def index(ctx: Ctx):
    return ctx.page("index.html")


@router.get("/static/{name}")
async def static_file(ctx: Ctx, name: str):
    return ctx.page(name, **{"Cache-Control": "no-cache"})


@router.get("/api/health")
async def health():
    return {"ok": True}
