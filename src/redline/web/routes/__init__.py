"""The web app's routers, one per resource: the page (:mod:`.pages`), scenarios and uploads
(:mod:`.scenarios`), runs and their downloads (:mod:`.jobs`), the sweep store (:mod:`.store`) and the
web seat (:mod:`.play`). Each reaches the app's shared state through
:data:`redline.web.context.Ctx`; JSON bodies are pydantic models (:func:`redline.web.http.json_model`)."""
from __future__ import annotations

from redline.web.routes import jobs, pages, play, scenarios, store

__all__ = ["ROUTERS"]

ROUTERS = (pages.router, scenarios.router, jobs.router, store.router, play.router)
