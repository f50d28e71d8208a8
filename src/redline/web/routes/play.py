"""The web seat's routes (see :mod:`redline.web.play` for the seat and its games).

``GET /play``                 the page.
``POST /api/play``            :class:`PlayRequest`: start a game (one run, its parameters drawn like a
                              job's: the shipped posterior unless ``prior``); 201 ``{game, posterior, prior}``.
``GET /api/play/{id}?wait=S`` the game's state (long polling, at most 20 s).
``POST /api/play/{id}/act``   :class:`ActRequest`: the week's choice; 202 ``{accepted}``.
"""
from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from redline.errors import did_you_mean
from redline.limits import MAX_HORIZON
from redline.web.context import Ctx
from redline.web.http import HTTPProblem, json_model
from redline.web.jobs import new_id
from redline.web.parameters import Prior, posterior_record
from redline.web.play import TooManyGames

__all__ = ["router", "PlayRequest", "ActRequest", "MAX_WAIT_S"]

MAX_WAIT_S = 20.0
"""Longest a status request is held while the game runs (seconds)."""
_WHOLE = "seed and horizon must be whole numbers"


class PlayRequest(BaseModel):
    """Start a game: play ``actor`` in ``scenario``; the rest of the world runs on the model."""

    model_config = ConfigDict(extra="ignore")

    scenario: str = ""
    actor: str = ""
    seed: int = Field(0, ge=0, json_schema_extra={"problem": f"seed must be >= 0 and horizon within 1..{MAX_HORIZON} weeks"})
    horizon: int | None = Field(None, ge=1, le=MAX_HORIZON,
                                json_schema_extra={"problem": f"seed must be >= 0 and horizon within 1..{MAX_HORIZON} weeks"})
    prior: Prior = False
    """Play from the priors even when a posterior ships beside the scenario (a job's ``prior``)."""

    @field_validator("scenario", "actor", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return "" if value is None else str(value)

    @field_validator("seed", "horizon", mode="before")
    @classmethod
    def _whole(cls, value: Any, info) -> Any:
        if info.field_name == "horizon" and value in (None, ""):
            return None
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise PydanticCustomError("redline_whole", _WHOLE) from None
        if isinstance(value, float) and number != value:
            raise PydanticCustomError("redline_whole", _WHOLE)
        return number


class ActRequest(BaseModel):
    """The week's choice: an action id (or null, for none) per track of the seat's actor."""

    model_config = ConfigDict(extra="ignore")

    choose: Any = None  # checked against the week's offer by WebSeat.answer, with a did-you-mean


router = APIRouter()


def _game(ctx, request: Request, gid: str):
    game = ctx.games.get(request.state.session.id, gid)
    if game is None:
        raise HTTPProblem(404, f"unknown game '{gid[:40]}'")
    return game


@router.get("/play")
async def play_page(ctx: Ctx):
    return ctx.page("play.html")


@router.post("/api/play", status_code=201)
async def start(request: Request, ctx: Ctx, body: Annotated[PlayRequest, Depends(json_model(
        PlayRequest, shape="expected a JSON object {scenario, actor, seed?, horizon?, prior?}"))]):
    loaded, origin = ctx.loaded(request, body.scenario)
    tracks = loaded.program.tracks
    if body.actor not in tracks or not tracks[body.actor]:
        playable = [a for a, t in tracks.items() if t]
        raise HTTPProblem(400, f"unknown or action-less actor '{body.actor[:40]}'{did_you_mean(body.actor, playable)} "
                               f"(playable: {', '.join(playable)})")
    post = await ctx.off_loop(ctx.posterior, loaded, prior=body.prior)  # the jobs' cached choice; a file read
    try:
        game = ctx.games.start(request.state.session.id, new_id("game"), loaded, body.actor, body.seed, body.horizon,
                               posterior=post, prior=body.prior, origin=origin)
    except TooManyGames as err:
        raise HTTPProblem(429, err.message) from None
    return {"game": game.id, "posterior": posterior_record(post), "prior": body.prior}


@router.get("/api/play/{gid}")
def status(request: Request, ctx: Ctx, gid: str, wait: float = 0.0):  # sync: waiting happens in a worker thread
    game = _game(ctx, request, gid)
    deadline = time.monotonic() + min(max(wait, 0.0), MAX_WAIT_S)
    with game.seat.changed:
        while game.status == "running" and game.seat.turn is None and time.monotonic() < deadline:
            game.seat.changed.wait(timeout=max(0.0, deadline - time.monotonic()))
    return game.snapshot()


@router.post("/api/play/{gid}/act", status_code=202)
async def act(request: Request, ctx: Ctx, gid: str):
    game = _game(ctx, request, gid)
    body = await json_model(ActRequest, shape="expected a JSON body {choose: {track: action id or null}}")(request)
    game.seat.answer(body.choose)
    return {"accepted": True}
