"""Read a YAML file as plain data, keeping the line and column of every key and value.

Only YAML's core data types are built (mappings, sequences, strings, numbers, booleans, null,
dates). Tags that would construct objects (``!!python/...`` and any other non-core tag) are
refused, as are duplicate keys, non-finite or absurd numbers, documents nested or expanded
beyond fixed budgets (alias "billion laughs" bombs), files over :data:`MAX_BYTES`, and text that
is not UTF-8. Nothing in a file is ever executed.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from redline.errors import Location, ScenarioError

__all__ = ["MAX_BYTES", "MAX_NODES", "MAX_DEPTH", "Document", "read_yaml", "parse_yaml"]

MAX_BYTES = 5 * 1024 * 1024
MAX_NODES = 200_000  # counted after alias expansion
MAX_DEPTH = 64
MAX_NUMBER = 1e15

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"


@dataclass
class Document:
    """Plain data read from YAML, with the location of each value and each mapping key.

    ``marks[path]`` is where the value at ``path`` starts; ``key_marks[path]`` is where the key
    of the last path component is written. A path is a tuple of keys and list indices.
    """

    data: Any
    file: str
    marks: dict[tuple, Location] = field(default_factory=dict)
    key_marks: dict[tuple, Location] = field(default_factory=dict)
    quoted: dict[tuple, bool] = field(default_factory=dict)

    def locate(self, path: tuple, *, key: bool = False) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            table = self.key_marks if key else self.marks
            if path in table:
                return table[path]
            if not path:
                return Location(self.file, 1, 1)
            path = path[:-1]
            key = False


def read_yaml(path: str | Path) -> Document:
    """Read ``path`` as YAML data with locations; every failure is a located :class:`ScenarioError`."""
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ScenarioError(f"no such file '{name}'") from None
    except OSError as err:
        raise ScenarioError(f"cannot read '{name}': {err.strerror}") from None
    if not path.is_file():
        raise ScenarioError(f"'{name}' is not a file")
    if size > MAX_BYTES:
        raise ScenarioError(
            f"file is {size / 1e6:.1f} MB; scenario files are limited to {MAX_BYTES / 1e6:.0f} MB",
            Location(name, 1, 1),
        )
    with path.open("rb") as fh:
        raw = fh.read(MAX_BYTES + 1)
    return parse_yaml(raw, name)


def parse_yaml(raw: bytes | str, name: str = "<input>") -> Document:
    """Parse YAML text or bytes (see :func:`read_yaml`)."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            raise ScenarioError(
                f"input is {len(raw) / 1e6:.1f} MB; scenario files are limited to {MAX_BYTES / 1e6:.0f} MB",
                Location(name, 1, 1),
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            before = raw[: err.start]
            line = before.count(b"\n") + 1
            column = err.start - (before.rfind(b"\n") + 1) + 1
            raise ScenarioError(
                f"file is not valid UTF-8 (byte 0x{raw[err.start]:02x}); save it as UTF-8",
                Location(name, line, column),
            ) from None
    else:
        text = raw
        if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            raise ScenarioError(f"input is larger than {MAX_BYTES / 1e6:.0f} MB", Location(name, 1, 1))
    text = text.lstrip("\ufeff")
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        loc = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name, 1, 1)
        problem = err.problem or err.context or "invalid YAML"
        raise ScenarioError(f"YAML syntax error: {problem}", loc) from None
    except yaml.YAMLError as err:
        raise ScenarioError(f"YAML error: {err}", Location(name, 1, 1)) from None
    except RecursionError:
        raise ScenarioError(f"YAML nests deeper than {MAX_DEPTH} levels", Location(name, 1, 1)) from None
    doc = Document(data=None, file=name)
    if node is None:
        doc.data = {}
        return doc
    builder = _Builder(doc)
    try:
        if _expanded_size(node, {}, 0, name) > MAX_NODES:  # before building anything
            raise ScenarioError(f"document expands to more than {MAX_NODES:,} values (an alias/anchor bomb?)",
                                Location(name, 1, 1))
        doc.data = builder.build(node, (), 0)
    except RecursionError:
        raise ScenarioError(f"YAML nests deeper than {MAX_DEPTH} levels", Location(name, 1, 1)) from None
    return doc


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int, name: str) -> int:
    """Number of values the node stands for once aliases are expanded, counted without expanding
    (aliased nodes are shared objects, so each is sized once)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if depth > MAX_DEPTH:
        mark = node.start_mark
        raise ScenarioError(f"YAML nests deeper than {MAX_DEPTH} levels", Location(name, mark.line + 1, mark.column + 1))
    size = 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            size += _expanded_size(k, memo, depth + 1, name) + _expanded_size(v, memo, depth + 1, name)
            if size > MAX_NODES:
                break
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            size += _expanded_size(v, memo, depth + 1, name)
            if size > MAX_NODES:
                break
    memo[key] = size
    return size


class _Builder:
    def __init__(self, doc: Document):
        self.doc = doc
        self.nodes = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.doc.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: tuple, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ScenarioError(
                f"document expands to more than {MAX_NODES:,} values (an alias/anchor bomb?)", self.loc(node)
            )
        if depth > MAX_DEPTH:
            raise ScenarioError(f"YAML nests deeper than {MAX_DEPTH} levels", self.loc(node))
        self.doc.marks.setdefault(path, self.loc(node))
        tag = node.tag or ""
        if isinstance(node, yaml.MappingNode):
            if tag != _CORE + "map":
                raise self.bad_tag(node)
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _CORE + "merge":
                    raise ScenarioError("merge keys ('<<') are not supported; write the keys out", self.loc(key_node))
                if not isinstance(key_node, yaml.ScalarNode):
                    raise ScenarioError("mapping keys must be plain names", self.loc(key_node))
                key = self.scalar(key_node)
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    key = str(key_node.value)
                if key in result:
                    first = self.doc.key_marks.get(path + (key,))
                    where = f" (first at line {first.line})" if first else ""
                    raise ScenarioError(f"duplicate key '{key}'{where}", self.loc(key_node))
                self.doc.key_marks[path + (key,)] = self.loc(key_node)
                result[key] = self.build(value_node, path + (key,), depth + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            if tag != _CORE + "seq":
                raise self.bad_tag(node)
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        self.doc.quoted[path] = node.style in ("'", '"')
        return self.scalar(node)

    def bad_tag(self, node: yaml.Node) -> ScenarioError:
        return ScenarioError(
            f"YAML tag '{node.tag}' is not allowed in scenario files (data only: no objects, no code)", self.loc(node)
        )

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag or ""
        kind = tag[len(_CORE):] if tag.startswith(_CORE) else None
        if kind == "str":
            return node.value
        if kind == "null":
            return None
        if kind == "bool":
            return self.constructor.construct_yaml_bool(node)
        if kind == "int":
            try:
                value = self.constructor.construct_yaml_int(node)
            except ValueError:
                raise ScenarioError(f"malformed integer '{node.value[:40]}'", self.loc(node)) from None
            if abs(value) > MAX_NUMBER:
                raise ScenarioError(f"number {node.value[:40]} is out of range (|x| <= 1e15)", self.loc(node))
            return value
        if kind == "float":
            value = self.constructor.construct_yaml_float(node)
            if not math.isfinite(value):
                raise ScenarioError(f"number '{node.value}' is not finite (NaN and infinity are not allowed)", self.loc(node))
            if abs(value) > MAX_NUMBER:
                raise ScenarioError(f"number {node.value[:40]} is out of range (|x| <= 1e15)", self.loc(node))
            return value
        if kind == "timestamp":
            try:
                value = self.constructor.construct_yaml_timestamp(node)
            except ValueError:
                raise ScenarioError(f"malformed date '{node.value[:40]}'", self.loc(node)) from None
            return value.date() if isinstance(value, dt.datetime) else value
        raise self.bad_tag(node)
