"""Request guards for the local web app: who may talk to it, and what a request may hold.

A page open in the user's browser can reach ``http://127.0.0.1:PORT`` too. Two attacks follow:
DNS rebinding (a hostile name that resolves to 127.0.0.1, so the browser sends that name as
``Host``) and cross-origin "simple" requests (``text/plain`` or form POSTs, which browsers send
without asking). This ASGI middleware refuses both before any route runs:

* ``Host`` must name the machine the app was started for: ``127.0.0.1``, ``localhost`` or
  ``[::1]``, plus the ``--host`` given to ``redline serve`` (any port);
* a browser's ``Origin`` (when sent) must be the app itself (same host and port as ``Host``),
  and ``Sec-Fetch-Site: cross-site`` is refused;
* a request with a body must declare its type: JSON for the API (``application/json``), YAML or
  ``multipart/form-data`` for uploads; ``text/plain`` and URL-encoded forms are refused (415).

Bodies are read with :func:`read_body`: a size limit, and a deadline for the whole body and for
each chunk, so a client that sends half a body and waits cannot hold a worker (408).
"""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["LOCAL_HOSTS", "RequestGuard", "read_body", "BODY_TIMEOUT_S", "CHUNK_TIMEOUT_S", "BodyError"]

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
BODY_TIMEOUT_S = 30.0
"""Longest time a client may take to send a whole request body (seconds)."""
CHUNK_TIMEOUT_S = 10.0
"""Longest silence allowed between two chunks of a request body (seconds)."""
JSON_TYPES = ("application/json",)
UPLOAD_TYPES = ("multipart/form-data", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml",
                "application/octet-stream")
_HEADERS = [(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff"),
            (b"cache-control", b"no-store")]


class BodyError(Exception):
    """A request body that is too large (413) or too slow (408)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _hostname(value: str) -> str:
    """The host part of a ``Host`` header or a URL's netloc, lower-cased, without port or brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class RequestGuard:
    """ASGI middleware: Host and Origin allow-list, and declared body types (see the module)."""

    def __init__(self, app, *, hosts: Iterable[str] = (), upload_paths: Iterable[str] = ("/api/uploads",)):
        self.app = app
        extra = {_hostname(h) for h in hosts if h and h not in ("0.0.0.0", "::")}
        self.hosts = frozenset(LOCAL_HOSTS | extra)
        self.any_host = any(h in ("0.0.0.0", "::") for h in hosts)
        self.upload_paths = tuple(upload_paths)

    async def _refuse(self, send, status: int, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": _HEADERS + [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _host_ok(self, name: str) -> bool:
        return name in self.hosts or (self.any_host and name != "")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = _hostname(headers.get(b"host", ""))
        if not self._host_ok(host):
            return await self._refuse(send, 403, f"unexpected Host '{host[:60]}': this app answers only to "
                                                 f"{', '.join(sorted(self.hosts))} (start it with --host NAME to add one)")
        origin = headers.get(b"origin")
        if origin is not None:
            # same origin only: the page that sends the request must have been served by this
            # app under the very name and port the request is addressed to
            parts = urlsplit(origin)
            same = parts.netloc.lower() == headers.get(b"host", "").strip().lower()
            if origin == "null" or parts.scheme not in ("http", "https") or not same:
                return await self._refuse(send, 403, "cross-origin requests are refused (Origin "
                                                     f"'{origin[:60]}' is not this app)")
        if headers.get(b"sec-fetch-site") == "cross-site":
            return await self._refuse(send, 403, "cross-site requests are refused")
        method = scope.get("method", "GET")
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            ctype = headers.get(b"content-type", "").split(";")[0].strip().lower()
            path = scope.get("path", "")
            upload = path.startswith(self.upload_paths)
            allowed = UPLOAD_TYPES if upload else JSON_TYPES
            # A browser always names the type of a body it sends cross-origin (text/plain at the
            # least); scripts and curl may send an upload with none, which is read as YAML.
            has_body = headers.get(b"content-length", "0") not in ("0", "") or b"transfer-encoding" in headers
            if has_body and not (upload and ctype == "") and ctype not in allowed:
                return await self._refuse(send, 415, f"Content-Type '{ctype[:60] or 'none'}' is not accepted here; "
                                                     f"send {' or '.join(allowed)}")
        return await self.app(scope, receive, send)


async def read_body(stream, limit: int, *, total_s: float = BODY_TIMEOUT_S, chunk_s: float = CHUNK_TIMEOUT_S) -> bytes:
    """Read a request body from ``stream`` (an async iterator of chunks) with a size limit and
    deadlines; raises :class:`BodyError` (413 too large, 408 too slow)."""
    chunks, size = [], 0
    deadline = time.monotonic() + total_s
    iterator = stream.__aiter__()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BodyError(408, f"the request body took longer than {total_s:g} s to arrive")
        try:
            chunk = await asyncio.wait_for(iterator.__anext__(), timeout=min(chunk_s, left))
        except StopAsyncIteration:
            break
        except asyncio.TimeoutError:
            raise BodyError(408, f"the request body stalled (nothing for {min(chunk_s, left):g} s)") from None
        size += len(chunk)
        if size > limit:
            raise BodyError(413, f"request is larger than the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
