"""Every figure quoted in README.md and docs/*.md, recomputed by the command that produces it.

A quoted figure is written between markers, ``<!--fig:NAME-->+0.946<!--/fig-->`` (invisible when
the Markdown is rendered), and declared in ``docs/figures.yaml``: the ``redline`` command that
computes it (run with ``--json``), the path of the number in that JSON and its format. Then

    .venv/bin/python docs/quoted_figures.py           # check: list the figures that drifted (exit 1)
    .venv/bin/python docs/quoted_figures.py --write   # rewrite every marker with its fresh value

(``make docs`` runs the second, and regenerates docs/format.md). ``tests/test_quoted_figures.py``
fails when a quoted figure drifts from what its command prints, or when a marker has no entry.
Anyone who quotes a number adds an entry and a marker; nothing here is specific to one scenario.
Commands that several figures share run once.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "docs" / "figures.yaml"
MARKER = re.compile(r"<!--fig:([a-z0-9_]+)-->(.*?)<!--/fig-->", re.S)
_SELECT = re.compile(r"^([A-Za-z0-9_]+)\[(.+)\]$")


def documents() -> list[Path]:
    """The Markdown files that may quote figures."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def registry() -> dict[str, dict]:
    data = yaml.safe_load(REGISTRY.read_text(encoding="utf-8")) or {}
    return data.get("figures", {})


def markers() -> dict[str, list[tuple[Path, str]]]:
    """Figure name -> every (file, quoted text) where it appears."""
    found: dict[str, list[tuple[Path, str]]] = {}
    for path in documents():
        for m in MARKER.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(m.group(1), []).append((path, m.group(2)))
    return found


def lookup(data, path: str):
    """The value at ``path`` in JSON ``data``: dotted keys, list indices, and ``list[key=value,...]``
    to pick the element of a list whose keys match."""
    for part in _split(path):
        m = _SELECT.match(part)
        if m:
            data = data[m.group(1)]
            want = dict(kv.split("=", 1) for kv in m.group(2).split(","))
            matches = [x for x in data if all(str(x.get(k)) == v for k, v in want.items())]
            if len(matches) != 1:
                raise KeyError(f"{part}: {len(matches)} elements match")
            data = matches[0]
        elif isinstance(data, list):
            data = data[int(part)]
        else:
            data = data[part]
    return data


def _split(path: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in path:
        if ch == "." and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch == "["
        depth -= ch == "]"
        current += ch
    return parts + [current]


def formatted(value: float, spec: dict) -> str:
    text = spec.get("format", "{}").format(value)
    if spec.get("minus") == "unicode":
        text = text.replace("-", "\u2212")
    return text


def run_command(args: list[str]) -> dict:
    r = subprocess.run([sys.executable, "-m", "redline", *args, "--json"], capture_output=True, text=True,
                       cwd=ROOT, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"redline {' '.join(args)} failed: {r.stderr.strip()[-300:]}")
    return json.loads(r.stdout)


def compute(names: list[str] | None = None) -> dict[str, str]:
    """Fresh text of each figure (every figure, or ``names``), running each command once."""
    reg = registry()
    outputs: dict[tuple, dict] = {}
    fresh = {}
    for name, spec in reg.items():
        if names is not None and name not in names:
            continue
        key = tuple(str(a) for a in spec["command"])
        if key not in outputs:
            outputs[key] = run_command(list(key))
        fresh[name] = formatted(lookup(outputs[key], spec["value"]), spec)
    return fresh


def drift(fresh: dict[str, str]) -> list[str]:
    """Every quoted figure that differs from its fresh value, and every unregistered marker."""
    problems = []
    for name, places in markers().items():
        if name not in registry():
            problems.append(f"{places[0][0].name}: figure '{name}' has no entry in docs/figures.yaml")
            continue
        if name not in fresh:
            continue
        for path, quoted in places:
            if quoted != fresh[name]:
                problems.append(f"{path.relative_to(ROOT)}: {name} quotes {quoted}, its command now gives {fresh[name]}")
    return problems


def write(fresh: dict[str, str]) -> list[Path]:
    changed = []
    for path in documents():
        text = path.read_text(encoding="utf-8")
        new = MARKER.sub(lambda m: f"<!--fig:{m.group(1)}-->{fresh.get(m.group(1), m.group(2))}<!--/fig-->", text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the quoted figures with fresh values")
    args = parser.parse_args()
    fresh = compute()
    if args.write:
        for path in write(fresh):
            print(f"updated {path.relative_to(ROOT)}")
    problems = drift(fresh)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
