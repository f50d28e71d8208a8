"""The web seat: a person plays an actor in the browser while the rest of the world runs on the model.

Routes (in :mod:`redline.web.routes.play`)
------------------------------------------
``GET /play``                        the page (``static/play.html`` and ``play.js``).
``POST /api/play``                   ``{scenario, actor, seed?, horizon?, prior?}``: start a game (one run);
                                     201 ``{game, posterior, prior}``.
``GET /api/play/{id}?wait=S``        the game: ``status`` (``waiting`` for a choice, ``running``, ``done``,
                                     ``failed``), the week's ``briefing`` while waiting, the ``result`` when done.
``POST /api/play/{id}/act``          ``{choose: {track: action id or null}}``: the week's choice; an action
                                     that is not offered is refused (400) and the seat is asked again.

Like a job, a game draws its run's parameters from the posterior shipped beside the scenario unless
``prior`` is true; its state records which (``posterior``: name, sha256, particles; or null).

A game runs in its own thread; its seat waits for the browser's answer up to
:data:`ANSWER_TIMEOUT_S` and then ends the game (``failed``), so an abandoned tab holds nothing.
Games belong to the browser session that started them.
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Any

from redline.results.summary import outcome_summary
from redline.errors import ParameterError, RedlineError, did_you_mean
from redline.play.briefing import briefing, strategy_comparison
from redline.play.protocol import BadAnswer
from redline.play.seats import Seat
from redline.web.parameters import posterior_record

__all__ = ["WebSeat", "GameTable", "TooManyGames", "ANSWER_TIMEOUT_S", "MAX_GAMES_PER_SESSION"]

ANSWER_TIMEOUT_S = 1800.0
"""A browser seat that gives no answer for this long ends its game."""
MAX_GAMES_PER_SESSION = 4


class TooManyGames(ParameterError):
    """A session asked for more games at once than :data:`MAX_GAMES_PER_SESSION` (429)."""


class WebSeat(Seat):
    """A seat answered from the browser: ``ask`` publishes the week's briefing and waits for ``answer``."""

    batched = False

    def __init__(self, actor: str, *, timeout: float = ANSWER_TIMEOUT_S):
        self.actor = actor
        self.label = f"human in the browser ({actor})"
        self.timeout = timeout
        self.turn: dict | None = None
        self.changed = threading.Condition()
        self._answers: queue.Queue = queue.Queue(maxsize=1)
        self._request = self._loaded = None

    def prepare(self, request, loaded) -> None:
        self._request, self._loaded = request, loaded

    def ask(self, observe: dict) -> dict:
        with self.changed:
            self.turn = briefing(self._loaded, self._request, observe)
            self.changed.notify_all()
        try:
            choose = self._answers.get(timeout=self.timeout)
        except queue.Empty:
            raise BadAnswer(f"{self.label} gave no answer to week {observe['week']} within "
                            f"{self.timeout:g} s") from None
        with self.changed:
            self.turn = None
            self.changed.notify_all()
        return {"type": "act", "actions": [{"run": observe["runs"][0]["run"], "choose": choose}]}

    def answer(self, choose: Any) -> None:
        """Check a choice against the week's options; raise ``ParameterError`` if it is not one."""
        turn = self.turn
        if turn is None:
            raise ParameterError("it is not your turn (the week is being simulated or the game is over)")
        if not isinstance(choose, dict):
            raise ParameterError("expected {\"choose\": {track: action id or null}}")
        checked = {}
        for track, rows in turn["tracks"].items():
            aid = choose.get(track)
            offered = [r["id"] for r in rows]
            if aid is not None and aid not in offered:
                raise ParameterError(f"action {str(aid)[:60]!r} is not available on track '{track}' this week "
                                     f"(available: {', '.join(offered) or 'nothing'}){did_you_mean(str(aid), offered)}")
            checked[track] = aid
        unknown = [t for t in choose if t not in turn["tracks"]]
        if unknown:
            raise ParameterError(f"unknown track '{str(unknown[0])[:40]}'{did_you_mean(str(unknown[0]), turn['tracks'])}")
        with self.changed:
            if self.turn is not turn:
                raise ParameterError("this week's choice has already been made")
            try:
                self._answers.put_nowait(checked)
            except queue.Full:
                raise ParameterError("this week's choice has already been made") from None
            # The turn ends with the answer, not when the game thread wakes up: a status read in
            # between must not offer the answered week again (a race seen under load).
            self.turn = None
            self.changed.notify_all()


class _Game:
    def __init__(self, gid: str, loaded, actor: str, seed: int, horizon: int | None, *, posterior=None,
                 prior: bool = False, origin: str = "bundled"):
        self.id, self.loaded, self.actor, self.seed, self.horizon = gid, loaded, actor, seed, horizon
        self.posterior, self.prior, self.origin = posterior, prior, origin
        self.seat = WebSeat(actor)
        self.status = "running"
        self.result: dict | None = None
        self.error: str | None = None
        self.started = time.time()
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"redline-play-{gid}")

    def _run(self) -> None:
        from redline.play.game import play

        try:
            ds = play(self.loaded, {self.actor: self.seat}, runs=1, seed=self.seed, horizon=self.horizon,
                      posterior=self.posterior)
            arms = {"you": outcome_summary(ds)}
            arms.update({name: outcome_summary(other) for name, other in strategy_comparison(
                self.loaded, self.actor, runs=1, seed=self.seed, horizon=self.horizon, strategies=None,
                params=None, posterior=self.posterior).items()})
            self.result = {"horizon": int(ds.attrs["horizon"]),
                           "outcomes": {arm: {o: s["median_week"] for o, s in block.items()} for arm, block in arms.items()},
                           "descriptions": {o: v.description for o, v in self.loaded.spec.outcomes.items()}}
            self.status = "done"
        except RedlineError as err:
            self.error, self.status = str(err), "failed"
        except Exception as err:  # noqa: BLE001 (a failed game is reported, never silently dropped)
            self.error, self.status = f"{type(err).__name__}: {err}", "failed"
        with self.seat.changed:
            self.seat.changed.notify_all()

    def snapshot(self) -> dict:
        turn = self.seat.turn
        status = self.status if self.status != "running" or turn is None else "waiting"
        out: dict[str, Any] = {"game": self.id, "status": status, "actor": self.actor, "seed": self.seed,
                               "scenario": self.loaded.id, "posterior": posterior_record(self.posterior),
                               "prior": self.prior, "origin": self.origin}
        if status == "waiting":
            out["briefing"] = turn
        if self.result is not None:
            out["result"] = self.result
        if self.error is not None:
            out["error"] = self.error
        return out


class GameTable:
    """The web seat's games, per browser session: at most :data:`MAX_GAMES_PER_SESSION` running in
    one session; a session sees only its own."""

    def __init__(self):
        self._games: dict[str, dict[str, _Game]] = {}  # session id -> game id -> game
        self._lock = threading.Lock()

    def of(self, session_id: str) -> dict[str, _Game]:
        with self._lock:
            return self._games.setdefault(session_id, {})

    def get(self, session_id: str, gid: str) -> _Game | None:
        return self.of(session_id).get(gid)

    def start(self, session_id: str, gid: str, loaded, actor: str, seed: int, horizon: int | None, *,
              posterior=None, prior: bool = False, origin: str = "bundled") -> _Game:
        """Start a game in its own thread, its parameters drawn from ``posterior`` (None: the priors;
        ``prior`` and ``origin`` say why, for the page); :class:`TooManyGames` (answered 429 by the
        router) when the session already runs its maximum."""
        mine = self.of(session_id)
        live = [g for g in mine.values() if g.status == "running"]
        if len(live) >= MAX_GAMES_PER_SESSION:
            raise TooManyGames(f"at most {MAX_GAMES_PER_SESSION} games at once; finish one first")
        game = _Game(gid, loaded, actor, seed, horizon, posterior=posterior, prior=prior, origin=origin)
        mine[game.id] = game
        game.thread.start()
        return game
