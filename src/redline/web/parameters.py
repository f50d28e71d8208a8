"""Where a web run's parameters come from, the same for jobs and games: the request's ``prior``
flag and the record of the posterior used.

A scenario with a posterior beside it draws each run's parameters from that posterior (the CLI's
choice, :func:`redline.calibrate.shipped_posterior`, read through ``WebContext.posterior``) unless
the request asks for the priors; the answer says which, so the page can say it too.
"""
from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

__all__ = ["Prior", "posterior_record"]


def _strict_bool(value: Any) -> bool:
    if not isinstance(value, bool):  # "yes", 1, "false": no guessing what was meant
        raise PydanticCustomError("redline_prior", f"prior must be true or false, got {json.dumps(value)[:40]}")
    return value


Prior = Annotated[bool, BeforeValidator(_strict_bool)]
"""A request's ``prior`` field: run from the priors even when a posterior ships beside the scenario
(the CLI's ``--prior``); JSON ``true`` or ``false`` only, anything else a 400 that names it."""


def posterior_record(post) -> dict[str, Any] | None:
    """What a result records about the posterior its runs drew from, in the shape of the CLI's
    ``--json`` entry (``path``, ``sha256``, ``particles``) but with the file's name only (the app does
    not show the server's folders); None: the priors."""
    return None if post is None else {**post.describe(), "path": post.path.name}
