"""Read actors tables from CSV or YAML, refusing bad input with a located, one-line message.

A table has one row per actor with columns ``actor``, ``position``, ``salience``, ``capability``
and optionally ``status_quo`` (given on any row; all given values must agree). Headers are
case-insensitive. Positions may use any scale; saliences must lie in ``[0, salience_scale]`` and
are divided by ``salience_scale``.

YAML files hold either a list of such rows or a mapping with ``actors: [...]`` and optional
``status_quo`` and ``salience_scale``.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from redline.bargaining._core import Actors, BargainingError
from redline.errors import Location, did_you_mean

__all__ = ["read_actors", "ActorsTableError", "REQUIRED_COLUMNS"]

REQUIRED_COLUMNS = ("actor", "position", "salience", "capability")
MAX_MAGNITUDE = 1e12
"""Largest absolute value of a position, salience, capability or status quo: beyond it the
models' squared distances and weighted sums overflow float64."""
MAX_TABLE_BYTES = 50 * 1024 * 1024
"""Largest actors table read (bytes)."""
_OPTIONAL = ("status_quo",)


class ActorsTableError(BargainingError):
    """A malformed actors table; the location names file, line and column."""


def _fail(path, line, col, message, column_name=None, hint=""):
    where = f" (row {line}, column '{column_name}')" if column_name else ""
    raise ActorsTableError(message + where + hint, Location(str(path), line, col))


def _number(path, line, col, name, raw) -> float:
    text = "" if raw is None else str(raw).strip()
    if text == "":
        _fail(path, line, col, f"{name} is empty", name)
    try:
        value = float(text)
    except ValueError:
        _fail(path, line, col, f"{name} '{text}' is not a number", name)
    if math.isnan(value):
        _fail(path, line, col, f"{name} is NaN", name)
    if math.isinf(value):
        _fail(path, line, col, f"{name} is infinite", name)
    if abs(value) > MAX_MAGNITUDE:
        _fail(path, line, col, f"{name} {value:g} is larger in size than {MAX_MAGNITUDE:g}; rescale the column", name)
    return value


def _read_text(path: Path, encoding: str) -> str:
    """The file's text, or a located one-line error: a folder, too big, or not UTF-8."""
    if path.is_dir():
        raise ActorsTableError(f"{path} is a folder, not an actors table (CSV, TSV or YAML)", Location(str(path)))
    try:
        size = path.stat().st_size
        if size > MAX_TABLE_BYTES:
            raise ActorsTableError(f"actors table is {size:,} bytes, more than {MAX_TABLE_BYTES:,}", Location(str(path)))
        data = path.read_bytes()
    except OSError as err:
        raise ActorsTableError(f"cannot read the actors table: {err.strerror or err}", Location(str(path))) from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        before = data[: err.start]
        line = before.count(b"\n") + 1
        col = err.start - (before.rfind(b"\n") + 1) + 1
        raise ActorsTableError(f"not UTF-8 text (byte 0x{data[err.start]:02x}); save the table as UTF-8 "
                               "(e.g. iconv -f latin1 -t utf-8)", Location(str(path), line, col)) from None


def _rows_from_csv(path: Path):
    text = _read_text(path, "utf-8-sig")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        _fail(path, 1, 1, f"empty actors table; expected columns {', '.join(REQUIRED_COLUMNS)}")
    dialect = csv.excel_tab if ("\t" in lines[0] and "," not in lines[0]) else csv.excel
    reader = csv.reader(lines, dialect)
    header = [h.strip().lower().replace(" ", "_") for h in next(reader)]
    seen: dict[str, int] = {}
    for k, name in enumerate(header):
        if name in seen and name:
            _fail(path, 1, k + 1, f"duplicate column '{name}' (also column {seen[name] + 1})")
        seen[name] = k
    rows = []
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            _fail(path, line_no, len(header) + 1, f"{len(cells)} fields but the header has {len(header)}")
        record = {}
        for k, name in enumerate(header):
            record[name] = (cells[k] if k < len(cells) else "", line_no, k + 1)
        rows.append((line_no, record))
    return header, rows, {}


def _rows_from_yaml(path: Path):
    try:
        root = yaml.compose(_read_text(path, "utf-8"), Loader=yaml.SafeLoader)
    except RecursionError:
        raise ActorsTableError("YAML nested too deeply for an actors table", Location(str(path))) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        raise ActorsTableError(f"not valid YAML: {getattr(err, 'problem', err)}",
                               Location(str(path), line, col)) from None
    settings: dict[str, Any] = {}
    seq = root
    if isinstance(root, yaml.MappingNode):
        seq = None
        for key, value in root.value:
            if key.value == "actors":
                seq = value
            elif isinstance(value, yaml.ScalarNode):
                settings[key.value] = (value.value, value.start_mark.line + 1, value.start_mark.column + 1)
        if seq is None:
            _fail(path, 1, 1, "YAML actors table needs an 'actors:' list")
    if not isinstance(seq, yaml.SequenceNode):
        line = root.start_mark.line + 1 if root is not None else 1
        _fail(path, line, 1, "expected a list of actors (actor, position, salience, capability)")
    header: list[str] = []
    rows = []
    for item in seq.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            _fail(path, line, item.start_mark.column + 1, "each actor must be a mapping")
        record = {}
        for key, value in item.value:
            if not isinstance(key, yaml.ScalarNode):
                _fail(path, key.start_mark.line + 1, key.start_mark.column + 1, "a column name must be plain text")
            name = str(key.value).strip().lower().replace(" ", "_")
            if name in record:
                _fail(path, key.start_mark.line + 1, key.start_mark.column + 1, f"duplicate column '{name}'")
            if not isinstance(value, yaml.ScalarNode):
                _fail(path, value.start_mark.line + 1, value.start_mark.column + 1,
                      f"'{name}' must be a single value, not a list or mapping", name)
            raw = value.value if isinstance(value, yaml.ScalarNode) else repr(value.value)
            record[name] = (raw, value.start_mark.line + 1, value.start_mark.column + 1)
            if name not in header:
                header.append(name)
        rows.append((line, record))
    return header, rows, settings


def read_actors(path: str | Path, *, salience_scale: float | None = None) -> Actors:
    """Read an actors table (CSV, TSV or YAML) into a one-row :class:`Actors`.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.tsv``/``.txt`` (comma or tab separated) or ``.yaml``/``.yml``.
    salience_scale : float, optional
        Upper end of the salience scale (e.g. 100 for 0-100 saliences). Default 1, or the YAML
        file's ``salience_scale``.

    Raises
    ------
    ActorsTableError
        Missing columns, empty/non-numeric/NaN values, salience outside ``[0, salience_scale]``,
        negative capability, zero total capability, duplicate actor names, fewer than two actors,
        inconsistent status quo. The message names file, line and column.
    """
    path = Path(path)
    if not path.exists():
        raise ActorsTableError(f"no such actors table: {path}", Location(str(path)))
    if path.suffix.lower() in (".yaml", ".yml"):
        header, rows, settings = _rows_from_yaml(path)
    else:
        header, rows, settings = _rows_from_csv(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        hints = "".join(did_you_mean(m, header) for m in missing[:1])
        _fail(path, 1, 1, f"missing column{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(repr(m) for m in missing)} (have: {', '.join(header) or 'none'}){hints}")
    scale = salience_scale
    if scale is None and "salience_scale" in settings:
        raw, line, col = settings["salience_scale"]
        scale = _number(path, line, col, "salience_scale", raw)
    scale = 1.0 if scale is None else float(scale)
    if not scale > 0:
        raise ActorsTableError(f"salience scale must be positive, got {scale}", Location(str(path)))
    names: list[str] = []
    first_line: dict[str, int] = {}
    pos, sal, cap = [], [], []
    status_quo: float | None = None
    sq_where: tuple[int, int] | None = None
    if "status_quo" in settings:
        raw, line, col = settings["status_quo"]
        status_quo = _number(path, line, col, "status_quo", raw)
        sq_where = (line, col)
    for line, rec in rows:
        raw, l_, c_ = rec["actor"]
        name = str(raw).strip()
        if not name:
            _fail(path, l_, c_, "actor name is empty", "actor")
        if name in first_line:
            _fail(path, l_, c_, f"duplicate actor '{name}' (first on line {first_line[name]})", "actor")
        first_line[name] = l_
        values = {}
        for col_name in ("position", "salience", "capability"):
            raw, l_, c_ = rec[col_name]
            values[col_name] = _number(path, l_, c_, col_name, raw)
        raw, l_, c_ = rec["salience"]
        if not 0.0 <= values["salience"] <= scale:
            hint = "; for 0-100 saliences pass --salience-scale 100" if scale == 1 and 1 < values["salience"] <= 100 else ""
            _fail(path, l_, c_, f"salience {values['salience']:g} outside [0, {scale:g}]", "salience", hint)
        raw, l_, c_ = rec["capability"]
        if values["capability"] < 0:
            _fail(path, l_, c_, f"capability {values['capability']:g} is negative", "capability")
        if "status_quo" in rec and str(rec["status_quo"][0]).strip() != "":
            raw, l_, c_ = rec["status_quo"]
            value = _number(path, l_, c_, "status_quo", raw)
            if status_quo is not None and value != status_quo:
                _fail(path, l_, c_, f"status_quo {value:g} differs from {status_quo:g} given on line "
                      f"{sq_where[0]}; one issue has one status quo", "status_quo")
            if status_quo is None:
                status_quo, sq_where = value, (l_, c_)
        names.append(name)
        pos.append(values["position"])
        sal.append(values["salience"] / scale)
        cap.append(values["capability"])
    if len(names) < 2:
        line = rows[0][0] if rows else 2
        who = f" ('{names[0]}')" if names else ""
        _fail(path, line, 1, f"only {len(names)} actor{who}; bargaining needs at least two")
    if sum(cap) <= 0:
        col = header.index("capability") + 1 if "capability" in header else 1
        _fail(path, 1, col, "total capability is zero; at least one actor needs clout", "capability")
    if sum(s * c for s, c in zip(sal, cap)) <= 0:
        col = header.index("salience") + 1 if "salience" in header else 1
        _fail(path, 1, col, "every actor has zero salience × capability; nobody would bargain", "salience")
    return Actors.from_arrays(np.array(pos), np.array(sal), np.array(cap),
                              status_quo=status_quo if status_quo is not None else None,
                              names=names, source=str(path), salience_scale=scale)
