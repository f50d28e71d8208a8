"""The local web app (``redline serve``): FastAPI on 127.0.0.1 and a vanilla-JS page shipped with
the package. Needs the ``web`` extra (fastapi, uvicorn, python-multipart)."""
from __future__ import annotations

from redline.web.app import create_app

__all__ = ["create_app"]
