"""Load scenarios: from a file or a bundled id, to a validated, compiled :class:`LoadedScenario`."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from redline.errors import Location, ScenarioError, did_you_mean
from redline.scenario.lint import lint
from redline.scenario.compile import Program, build_program, iter_elements
from redline.scenario.schema import Scenario
from redline.scenario.yaml_safe import Document, parse_yaml, read_yaml

__all__ = ["LoadedScenario", "load_scenario", "bundled_scenarios", "scenario_from_dict", "located_error"]


@dataclass
class LoadedScenario:
    """A scenario as read, validated and compiled.

    Attributes
    ----------
    spec: the validated pydantic model.
    program: the compiled form engines run.
    warnings: provenance and linter warnings (:mod:`redline.scenario.lint`; errors under ``strict``).
    path: the file it came from (None for dicts).
    sha256: hash of the canonical JSON of ``spec``.
    source_texts: source id -> text, for sources with a readable local ``text`` file.
    """

    spec: Scenario
    program: Program
    warnings: list[str]
    path: Path | None
    sha256: str
    document: Document | None = None
    source_texts: dict[str, str] = field(default_factory=dict)
    missing_texts: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.spec.meta.id


def _bundled_dir():
    return resources.files("redline") / "scenarios"


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenario id -> file (ids are the file names without ``.yaml``)."""
    found = {}
    for entry in _bundled_dir().iterdir():
        # a scenario's record (<id>.record.yaml) sits beside it and is not a scenario
        if entry.name.endswith(".yaml") and not entry.name.endswith(".record.yaml"):
            found[entry.name[: -len(".yaml")]] = Path(str(entry))
    return dict(sorted(found.items()))


def _resolve(ref: str | Path) -> Path:
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists() or "/" in str(ref):
        return path
    bundled = bundled_scenarios()
    if str(ref) in bundled:
        return bundled[str(ref)]
    raise ScenarioError(
        f"no scenario file or bundled scenario '{ref}'{did_you_mean(str(ref), bundled)} "
        f"(bundled: {', '.join(bundled)})"
    )


def load_scenario(ref: str | Path, *, strict: bool = False) -> LoadedScenario:
    """Load a scenario from a YAML file or a bundled id (see ``redline list``).

    Raises
    ------
    ScenarioError
        with the file, line and column of the first problem. Under ``strict``, an element
        without a source or assumption is an error too.
    """
    path = _resolve(ref)
    doc = read_yaml(path)
    return _finish(doc, path, strict)


def scenario_from_dict(data: dict[str, Any], *, strict: bool = False, name: str = "<dict>") -> LoadedScenario:
    """Validate and compile a scenario given as plain data (no locations in errors)."""
    doc = Document(data=data, file=name)
    return _finish(doc, None, strict)


def scenario_from_text(text: str | bytes, *, strict: bool = False, name: str = "<upload>") -> LoadedScenario:
    """Validate and compile a scenario given as YAML text (e.g. an upload)."""
    return _finish(parse_yaml(text, name), None, strict)


def _finish(doc: Document, path: Path | None, strict: bool) -> LoadedScenario:
    if not isinstance(doc.data, dict):
        raise ScenarioError("a scenario file must be a mapping with sections meta, actors, state, ...",
                            doc.locate(()))
    try:
        spec = Scenario.model_validate(doc.data)
    except ValidationError as err:
        raise located_error(err, doc) from None
    program, warnings = build_program(spec, doc, doc.file)
    warnings += lint(spec, program, doc, doc.file)
    texts, missing = _source_texts(spec, path, doc, warnings)
    if strict and warnings:
        raise ScenarioError(warnings[0].split(": ", 1)[1] + f" (strict; {len(warnings)} warning(s) in all)",
                            _loc_of_warning(warnings[0], doc.file))
    canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    sha = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return LoadedScenario(spec, program, warnings, path, sha, doc, texts, missing)


def _loc_of_warning(warning: str, file: str) -> Location:
    head = warning.split(": ", 1)[0]
    parts = head.rsplit(":", 2)
    try:
        return Location(parts[0], int(parts[1]), int(parts[2]))
    except (IndexError, ValueError):
        return Location(file)


SOURCES_ENV = "REDLINE_SOURCES"
"""Environment variable: extra directories (``os.pathsep``-separated) searched for source texts."""


def _source_texts(spec: Scenario, path: Path | None, doc: Document,
                  warnings: list[str]) -> tuple[dict[str, str], list[str]]:
    """Read local source texts and check that cited offsets fall inside them.

    A source's ``text`` is looked for next to the scenario, then in each directory of
    ``$REDLINE_SOURCES``. Texts that are not found are listed (offsets then go unchecked): a
    source's text is often someone else's and is not shipped with the scenario.
    """
    texts: dict[str, str] = {}
    base = path.parent if path is not None else None
    search = [Path(d) for d in os.environ.get(SOURCES_ENV, "").split(os.pathsep) if d]
    for sid, src in spec.sources.items():
        if not src.text:
            continue
        roots = ([base] if base is not None else []) + search
        for root in roots:
            text = _read_inside(root, src.text)
            if text is not None:
                texts[sid] = text
                break
    for epath, element in iter_elements(spec):
        ref = getattr(element, "source", None)
        if ref is None or ref.end is None or ref.id not in texts:
            continue
        if ref.end > len(texts[ref.id]):
            raise ScenarioError(
                f"offsets {ref.start}-{ref.end} run past the end of source '{ref.id}' ({len(texts[ref.id])} characters)",
                doc.locate(epath + ("source", "end")),
            )
    missing = [sid for sid, src in spec.sources.items() if src.text and sid not in texts]
    return texts, missing


MAX_SOURCE_TEXT_BYTES = 5 * 1024 * 1024
"""Largest source text read (bytes); a larger file is treated as missing."""


def _read_inside(root: Path, relative: str) -> str | None:
    """The text of ``root / relative`` if that file really lies inside ``root``, else None.

    The schema already refuses absolute paths and ``..``; resolving both sides here also refuses
    a symbolic link inside the folder that points out of it.
    """
    try:
        root_real = root.resolve(strict=True)
        cand = (root / relative).resolve(strict=True)
        if not cand.is_relative_to(root_real) or not cand.is_file():
            return None
        if cand.stat().st_size > MAX_SOURCE_TEXT_BYTES:
            return None
        return cand.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, RuntimeError, ValueError):
        return None


def located_error(err: ValidationError, doc: Document) -> ScenarioError:
    """Turn pydantic's first error into a file:line:col ScenarioError."""
    first = err.errors(include_url=False)[0]
    loc = tuple(first["loc"])
    path = _data_path(doc.data, loc)
    message = first["msg"]
    kind = first["type"]
    ctx = first.get("ctx") or {}
    if kind == "unknown_key":
        key = ctx.get("key")
        where = doc.locate(path + (key,), key=True)
        return ScenarioError(message, where)
    if kind == "missing":
        field_name = loc[-1] if loc else "?"
        return ScenarioError(f"missing required key '{field_name}'", doc.locate(path, key=True))
    if kind == "literal_error":
        got = _value_at(doc.data, path)
        expected = ctx.get("expected", "")
        hint = ""
        if isinstance(got, str):
            options = [o.strip().strip("'") for o in str(expected).replace(" or ", ", ").split(",")]
            hint = did_you_mean(got, options)
        return ScenarioError(f"'{got}' is not allowed here{hint}; expected {expected}", doc.locate(path))
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    label = ".".join(str(p) for p in path)
    return ScenarioError(f"{label}: {message}" if label else message, doc.locate(path))


def _data_path(data: Any, loc: tuple) -> tuple:
    """The longest prefix of pydantic's ``loc`` that exists in the data (skipping union tags)."""
    path: list = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
    return tuple(path)


def _value_at(data: Any, path: tuple) -> Any:
    node = data
    for p in path:
        node = node[p]
    return node
