"""A person's seat in the terminal (rich): each week, what the actor can know, the available actions
with their expected one-step effects and the red lines each may trip; the player types a choice.
Anything that is not an option is refused and asked again; closed input ends the game (exit 2)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from rich.console import Console
from rich.table import Table

from redline.play.protocol import BadAnswer
from redline.play.seats import Seat

__all__ = ["TerminalSeat", "red_lines_at_risk"]


def red_lines_at_risk(loaded, aid: str) -> list[str]:
    """Red lines whose condition reads the action itself or a variable its effects change (directly
    or through attribution): a static reading of the scenario, not a forecast."""
    program = loaded.program
    action = program.actions[aid]
    touched = {aid} | {e.var for e in action.effects} | {e.attributed for e in action.effects if e.attributed}
    return [rl.id for rl in program.red_lines if rl.owner != action.actor and touched & set(rl.condition.names)]


class TerminalSeat(Seat):
    """Plays one run: shows the week and reads choices from ``read`` (default: the console's input)."""

    batched = False

    def __init__(self, actor: str, *, console: Console | None = None, read: Callable[[str], str] | None = None):
        self.actor = actor
        self.label = f"human at the terminal ({actor})"
        self.console = console or Console(stderr=True, highlight=False)
        self.read = read or (lambda prompt: self.console.input(prompt))
        self._request = None
        self._loaded = None

    def prepare(self, request, loaded) -> None:
        self._request, self._loaded = request, loaded

    def _show(self, observe: dict) -> None:
        spec, program = self._loaded.spec, self._loaded.program
        run = observe["runs"][0]
        me = spec.actors[self.actor]
        c = self.console
        c.rule(f"[bold]Week {observe['week']}[/bold] · {observe['date']} · you are {me.name}")
        state = Table(title="What you can know (flows: last week)", show_header=False, box=None, pad_edge=False)
        state.add_column("", style="cyan")
        state.add_column("value", justify="right")
        state.add_column("", style="dim")
        for name, value in run["visible"].items():
            if name in spec.state:
                shown = "-" if value is None else f"{value:,.4g}"
                state.add_row(name, shown, spec.state[name].unit or "")
        happened = [n for n, v in run["visible"].items() if v and (n in program.actions or n in spec.red_lines)
                    and n not in spec.state]
        c.print(state)
        if happened:
            c.print("Last week: " + ", ".join(happened))

    def _options(self, track: str, ids: list[str]) -> Table:
        table = Table(title=f"Track {track}", box=None, pad_edge=False)
        for col in ("#", "action", "expected effect this week", "may trip"):
            table.add_column(col)
        table.add_row("0", "(no action)", "", "")
        for k, aid in enumerate(ids, start=1):
            changes = self._request.expected(aid)
            effect = ", ".join(f"{var} {float(np.asarray(v).ravel()[0]):+.3g}" for var, v in changes.items()
                               if np.isfinite(np.asarray(v, dtype=float)).all())
            desc = self._loaded.spec.actions[aid].description
            table.add_row(str(k), f"{aid}\n[dim]{_cut(desc, 48)}[/dim]" if desc else aid, effect,
                          ", ".join(red_lines_at_risk(self._loaded, aid)))
        return table

    def ask(self, observe: dict) -> dict:
        self._show(observe)
        run = observe["runs"][0]
        choose = {}
        for track, ids in run["options"].items():
            if not ids:
                choose[track] = None
                continue
            self.console.print(self._options(track, ids))
            choose[track] = self._read_choice(track, ids)
        return {"type": "act", "actions": [{"run": run["run"], "choose": choose}]}

    def _read_choice(self, track: str, ids: list[str]) -> str | None:
        while True:
            try:
                text = self.read(f"{track} [0-{len(ids)} or an action id]> ").strip()
            except EOFError:
                raise BadAnswer(f"{self.label}: the input closed before a choice was made") from None
            if text in ("0", "none", "-"):
                return None
            if text.isdigit() and 1 <= int(text) <= len(ids):
                return ids[int(text) - 1]
            if text in ids:
                return text
            self.console.print(f"[red]not an option:[/red] {text!r}; type a number from 0 to {len(ids)} "
                               f"or one of: {', '.join(ids)}")


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"
