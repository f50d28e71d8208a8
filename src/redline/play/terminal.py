"""A person's seat in the terminal (rich): each week, what the actor can know, the available actions
with their expected one-step effects and the red lines each may trip; the player types a choice.
Anything that is not an option is refused and asked again; closed input ends the game (exit 2)."""
from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from redline.play.briefing import briefing
from redline.play.protocol import BadAnswer
from redline.play.seats import Seat

__all__ = ["TerminalSeat"]


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

    def _show(self, brief: dict) -> None:
        c = self.console
        c.rule(f"[bold]Week {brief['week']}[/bold] · {brief['date']} · you are {brief['name']}")
        state = Table(title="What you can know (flows: last week)", show_header=False, box=None, pad_edge=False)
        state.add_column("", style="cyan")
        state.add_column("value", justify="right")
        state.add_column("", style="dim")
        for row in brief["state"]:
            state.add_row(row["name"], "-" if row["value"] is None else f"{row['value']:,.4g}", row["unit"])
        c.print(state)
        if brief["last_week"]:
            c.print("Last week: " + ", ".join(brief["last_week"]))

    @staticmethod
    def _options(track: str, rows: list[dict]) -> Table:
        table = Table(title=f"Track {track}", box=None, pad_edge=False)
        for col in ("#", "action", "expected effect this week", "may trip"):
            table.add_column(col)
        table.add_row("0", "(no action)", "", "")
        for k, row in enumerate(rows, start=1):
            effect = ", ".join(f"{var} {v:+.3g}" for var, v in row["expected"].items())
            desc = row["description"]
            table.add_row(str(k), f"{row['id']}\n[dim]{_cut(desc, 48)}[/dim]" if desc else row["id"], effect,
                          ", ".join(row["may_trip"]))
        return table

    def ask(self, observe: dict) -> dict:
        brief = briefing(self._loaded, self._request, observe)
        self._show(brief)
        choose = {}
        for track, rows in brief["tracks"].items():
            if not rows:
                choose[track] = None
                continue
            self.console.print(self._options(track, rows))
            choose[track] = self._read_choice(track, [r["id"] for r in rows])
        return {"type": "act", "actions": [{"run": brief["run"], "choose": choose}]}

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
