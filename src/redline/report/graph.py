"""The scenario as a picture: actors, their actions, red lines, processes, the state variables
they move and the outcomes those variables decide — laid out in columns as a plain SVG, with no
graphviz or JavaScript needed to see it.

Columns, left to right: actors → actions, red lines and processes → state variables → outcomes.
Within a column, nodes are ordered by the mean position of the nodes that point at them
(the barycentre heuristic of Sugiyama, Tagawa & Toda 1981), which removes most edge crossings
in scenarios of this size.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

from redline.report.figures import PALETTE

__all__ = ["scenario_svg", "MAX_NODES", "MAX_EDGES"]

MAX_NODES = 2_000
MAX_EDGES = 20_000
"""Largest picture drawn (elements and links); larger scenarios get a one-line notice instead."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COLUMNS = ("Actors", "Actions · red lines · processes", "State variables", "Outcomes")
_NODE_H = 24
_GAP = 8
_COL_W = 190
_COL_X = (20, 290, 560, 830)
_TOP = 44


@dataclass
class _Node:
    key: str
    label: str
    column: int
    style: str
    tooltip: str = ""
    colour: str = "#555"
    y: float = 0.0
    order: float = 0.0


@dataclass
class _Graph:
    nodes: dict[str, _Node] = field(default_factory=dict)
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)  # src, dst, colour, style
    seen: set = field(default_factory=set)  # the same edges, for O(1) de-duplication
    neighbours: dict[str, list[str]] = field(default_factory=dict)  # key -> nodes linked either way

    def add(self, node: _Node) -> None:
        self.nodes[node.key] = node

    def edge(self, src: str, dst: str, colour: str, style: str = "solid") -> None:
        item = (src, dst, colour, style)
        if src in self.nodes and dst in self.nodes and item not in self.seen:
            self.seen.add(item)
            self.edges.append(item)
            self.neighbours.setdefault(dst, []).append(src)
            self.neighbours.setdefault(src, []).append(dst)


def _names(expr) -> set[str]:
    return set(_NAME.findall(str(expr))) if expr is not None else set()


def _build(spec) -> _Graph:
    g = _Graph()
    actor_colour = {aid: PALETTE[i % len(PALETTE)] for i, aid in enumerate(spec.actors)}
    for aid, actor in spec.actors.items():
        g.add(_Node(f"actor:{aid}", actor.name, 0, "actor", f"{aid} ({actor.kind}) — {actor.description}",
                    actor_colour[aid]))
    for xid, action in spec.actions.items():
        tags = ", ".join(action.tags)
        g.add(_Node(f"action:{xid}", xid, 1, "action",
                    f"{xid} by {action.actor}" + (f" [{tags}]" if tags else "")
                    + (f", escalation {action.escalation:g}" if action.escalation is not None else "")
                    + (f" — {action.description}" if action.description else ""),
                    actor_colour.get(action.actor, "#555")))
    for rid, red in spec.red_lines.items():
        g.add(_Node(f"red:{rid}", rid, 1, "red_line",
                    f"red line of {red.owner}: if {red.condition} then {' or '.join(red.responses)}", "#C0392B"))
    for pid, proc in spec.processes.items():
        g.add(_Node(f"proc:{pid}", pid, 1, "process", f"process — {proc.description}", "#7F8C8D"))
    for vid, var in spec.state.items():
        unit = f" ({var.unit})" if var.unit else ""
        g.add(_Node(f"var:{vid}", vid, 2, "state", f"{vid}{unit} — {var.description}", "#34495E"))
    for oid, outcome in spec.outcomes.items():
        kind = "absorbing outcome" if outcome.absorbing else "outcome"
        g.add(_Node(f"out:{oid}", oid, 3, "outcome", f"{kind}: {outcome.condition}", "#8E44AD"))

    for xid, action in spec.actions.items():
        colour = actor_colour.get(action.actor, "#555")
        g.edge(f"actor:{action.actor}", f"action:{xid}", colour)
        for effect in action.effects:
            g.edge(f"action:{xid}", f"var:{effect.var}", colour)
            if effect.attributed:
                g.edge(f"action:{xid}", f"var:{effect.attributed}", colour, "dashed")
    for rid, red in spec.red_lines.items():
        g.edge(f"actor:{red.owner}", f"red:{rid}", "#C0392B", "dashed")
        for name in _names(red.condition) & set(spec.state):
            g.edge(f"red:{rid}", f"var:{name}", "#C0392B", "dotted")  # the variables it watches
        for response in red.responses:
            g.edge(f"red:{rid}", f"action:{response.partition('.')[0]}", "#C0392B")
    for pid, proc in spec.processes.items():
        for name in list(proc.set) + list(proc.add):
            g.edge(f"proc:{pid}", f"var:{name}", "#95A5A6")
    for oid, outcome in spec.outcomes.items():
        refs = _names(outcome.condition)
        for name in refs & set(spec.state):
            g.edge(f"var:{name}", f"out:{oid}", "#8E44AD")
        for name in refs & set(spec.actions):  # e.g. ever(retaliate): decided by an action, not a variable
            g.edge(f"action:{name}", f"out:{oid}", "#8E44AD", "dotted")
    return g


def _layout(g: _Graph) -> float:
    columns: dict[int, list[_Node]] = {c: [] for c in range(4)}
    for node in g.nodes.values():
        columns[node.column].append(node)
    kinds = {"action": 0, "red_line": 1, "process": 2}
    for c in range(4):
        nodes = columns[c]
        if c == 0:
            ordered = nodes
        else:
            # barycentre of the already placed nodes that point at this one (either direction)
            # (adjacency lists: linear in the edges, where scanning every edge per node was quadratic)
            def centre(n: _Node) -> float:
                ys = [g.nodes[k].order for k in g.neighbours.get(n.key, ()) if g.nodes[k].column < c]
                return sum(ys) / len(ys) if ys else 1e9

            if c == 1:
                ordered = sorted(nodes, key=lambda n: (kinds.get(n.style, 3), centre(n)))
            else:
                ordered = sorted(nodes, key=centre)
        for i, node in enumerate(ordered):
            node.order = i
            node.y = _TOP + i * (_NODE_H + _GAP)
    tallest = max((len(v) for v in columns.values()), default=1)
    # centre shorter columns vertically
    for nodes in columns.values():
        offset = (tallest - len(nodes)) * (_NODE_H + _GAP) / 2
        for node in nodes:
            node.y += offset
    return _TOP + tallest * (_NODE_H + _GAP) + 30


def _short(text: str, n: int = 26) -> str:
    text = text.replace("_", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


def scenario_svg(spec) -> str:
    """An SVG picture of a scenario spec (:class:`redline.scenario.Scenario`)."""
    g = _build(spec)
    if len(g.nodes) > MAX_NODES or len(g.edges) > MAX_EDGES:
        # A picture this size is unreadable and its SVG would run to megabytes: say so instead.
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="scenario-graph" viewBox="0 0 600 40">'
                f'<text x="10" y="24" font-size="13">{len(g.nodes):,} elements and {len(g.edges):,} links: too '
                f'many to draw (limits {MAX_NODES:,} and {MAX_EDGES:,})</text></svg>')
    height = _layout(g)
    width = _COL_X[-1] + _COL_W + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="scenario-graph" viewBox="0 0 {width} {height:.0f}" '
           f'width="{width}" height="{height:.0f}" role="img" aria-label="Scenario structure">',
           "<style>.sg-node text{font:11px sans-serif;fill:#111}.sg-col{font:bold 12px sans-serif;fill:#333}"
           ".sg-edge{fill:none;stroke-width:1.3;opacity:.55}.sg-node:hover rect{stroke-width:2.5}</style>"]
    for c, title in enumerate(_COLUMNS):
        out.append(f'<text class="sg-col" x="{_COL_X[c]}" y="22">{escape(title)}</text>')
    dash = {"solid": "", "dashed": ' stroke-dasharray="6 3"', "dotted": ' stroke-dasharray="2 3"'}
    for src, dst, colour, style in g.edges:
        a, b = g.nodes[src], g.nodes[dst]
        if a.column < b.column:
            x1, x2 = _COL_X[a.column] + _COL_W, _COL_X[b.column]
        elif a.column > b.column:
            x1, x2 = _COL_X[a.column], _COL_X[b.column] + _COL_W
        else:  # same column (red line -> response): loop out to the left
            x1 = x2 = _COL_X[a.column]
        y1, y2 = a.y + _NODE_H / 2, b.y + _NODE_H / 2
        if a.column == b.column:
            path = f"M{x1},{y1:.1f} C{x1 - 40},{y1:.1f} {x2 - 40},{y2:.1f} {x2},{y2:.1f}"
        else:
            mid = (x1 + x2) / 2
            path = f"M{x1},{y1:.1f} C{mid},{y1:.1f} {mid},{y2:.1f} {x2},{y2:.1f}"
        out.append(f'<path class="sg-edge" d="{path}" stroke="{colour}"{dash[style]}>'
                   f"<title>{escape(src)} → {escape(dst)}</title></path>")
    fills = {"actor": None, "action": "#FFFFFF", "red_line": "#FDEDEC", "process": "#F4F6F6", "state": "#EBF5FB",
             "outcome": "#F5EEF8"}
    for node in g.nodes.values():
        x = _COL_X[node.column]
        fill = fills[node.style] or node.colour
        text_fill = "#fff" if node.style == "actor" else "#111"
        rx = 12 if node.style in ("actor", "outcome") else 3
        width_attr = _COL_W
        out.append(f'<g class="sg-node sg-{node.style}" data-key="{escape(node.key)}">'
                   f"<title>{escape(node.tooltip)}</title>"
                   f'<rect x="{x}" y="{node.y:.1f}" width="{width_attr}" height="{_NODE_H}" rx="{rx}" '
                   f'fill="{fill}" stroke="{node.colour}" stroke-width="1.4"/>'
                   f'<text x="{x + 8}" y="{node.y + _NODE_H / 2 + 4:.1f}" style="fill:{text_fill}">'
                   f"{escape(_short(node.label))}</text></g>")
    legend_y = height - 10
    out.append(f'<text x="20" y="{legend_y:.0f}" style="font:10px sans-serif;fill:#555">'
               "solid: acts on / sets · dashed: attributed record or red-line owner · dotted: variables a red line "
               "watches · hover a box for details</text>")
    out.append("</svg>")
    return "".join(out)
