"""HTTP plumbing shared by the web app's routers: the error type every route raises, the security
headers, bounded body reading, and JSON bodies parsed into pydantic request models.

A JSON body is read with a size limit and deadlines (:func:`redline.web.guard.read_body`), parsed as
standard JSON only (no ``NaN``/``Infinity``, every number finite, nesting at most 16 deep) and then
validated by a pydantic model. A model's failure becomes one ``{"error": message}`` answer with
status 400: the first problem, in the order of the model's fields (unknown fields first), in the
words the model gives for it (see :func:`problem_message`).
"""
from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from redline.errors import RedlineError
from redline.web.guard import BodyError, read_body

__all__ = ["HTTPProblem", "SECURITY_HEADERS", "STATIC_TYPES", "MAX_UPLOAD_BYTES", "MAX_BODY_BYTES",
           "MAX_JSON_BYTES", "error_payload", "read_limited", "parse_json", "json_model", "problem_message"]

MAX_UPLOAD_BYTES = 1_000_000  # a scenario is a few tens of kB; the file loader's own limit is 5 MB
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 64_000  # multipart overhead
MAX_JSON_BYTES = 64_000
MAX_JSON_DEPTH = 16
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "connect-src 'self'; frame-ancestors 'none'"}

Model = TypeVar("Model", bound=BaseModel)


class HTTPProblem(Exception):
    """An error answered as JSON ``{"error": message, **extra}`` with ``status``."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def error_payload(err: RedlineError) -> dict[str, Any]:
    """A library error as the app's JSON error, with its file, line and column when it has them."""
    loc = getattr(err, "location", None)
    payload: dict[str, Any] = {"error": str(err), "message": getattr(err, "message", str(err))}
    if loc is not None:
        payload.update({"file": loc.file, "line": loc.line, "column": loc.column})
    return payload


async def read_limited(request: Request, limit: int) -> bytes:
    """The request's body, refused (413) above ``limit`` bytes, declared or sent."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise HTTPProblem(413, f"request is {int(declared):,} bytes; the limit is {limit:,}")
        except ValueError:
            raise HTTPProblem(400, "bad Content-Length header") from None
    try:  # a size limit and deadlines: half a body held open cannot tie up the server
        return await read_body(request.stream(), limit)
    except BodyError as err:
        raise HTTPProblem(err.status, err.message) from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _check_tree(node: Any, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise HTTPProblem(400, "the request body nests too deeply")
    if isinstance(node, float) and not math.isfinite(node):
        raise HTTPProblem(400, "numbers in the request must be finite (1e400 is infinite)")
    if isinstance(node, dict):
        for value in node.values():
            _check_tree(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _check_tree(value, depth + 1)


def parse_json(raw: bytes) -> Any:
    """Parse a request's JSON: standard JSON only (no NaN/Infinity), numbers finite, bounded depth.
    An empty body is ``{}``."""
    try:
        body = json.loads(raw or b"{}", parse_constant=_reject_constant)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPProblem(400, "the request body must be JSON") from None
    except ValueError as err:
        raise HTTPProblem(400, f"the request body must be standard JSON: {err}") from None
    except RecursionError:
        raise HTTPProblem(400, "the request body nests too deeply") from None
    _check_tree(body)
    return body


def problem_message(err: ValidationError, model: type[BaseModel]) -> str:
    """One message for a failed request model: unknown fields first (all of them, named), then the
    first failing field in the model's order. A model names a field's message in its field's
    ``json_schema_extra={"problem": ...}``; otherwise pydantic's own message is used."""
    errors = err.errors(include_url=False)
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden" and e["loc"])
    if unknown:
        return f"unknown field(s): {', '.join(unknown)}"
    order = list(model.model_fields)

    def rank(e):
        head = e["loc"][0] if e["loc"] else None
        return order.index(head) if head in order else len(order)

    first = min(errors, key=rank)
    head = first["loc"][0] if first["loc"] else None
    field = model.model_fields.get(head) if isinstance(head, str) else None
    extra = field.json_schema_extra if field is not None and isinstance(field.json_schema_extra, dict) else {}
    if first["type"].startswith("redline_"):  # raised by a model's own validator: its words already
        return first["msg"]
    if "problem" in extra:
        return str(extra["problem"])
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def json_model(model: type[Model], *, limit: int = MAX_JSON_BYTES,
               shape: str | None = None) -> Callable[[Request], Awaitable[Model]]:
    """A FastAPI dependency: the request's JSON body (at most ``limit`` bytes) as ``model``.
    ``shape`` is the message for a body that is JSON but not an object."""
    async def dependency(request: Request) -> Model:
        body = parse_json(await read_limited(request, limit))
        if not isinstance(body, dict):
            raise HTTPProblem(400, shape or "the request body must be a JSON object")
        try:
            return model.model_validate(body)
        except ValidationError as err:
            raise HTTPProblem(400, problem_message(err, model)) from None

    return dependency
