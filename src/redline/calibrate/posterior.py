"""Posterior files: weighted particles in Parquet, with what they were fitted to in the metadata.

One column per calibrated parameter and a ``weight`` column (summing to 1). The file's schema
metadata key ``redline.posterior`` holds JSON: the scenario's id and sha256, the record's sha256,
the seed, the priors, per-generation diagnostics and posterior predictive checks. Files are
written atomically (a temporary file in the same directory, then a rename), so an interrupted
write never leaves a half-written posterior.
"""
from __future__ import annotations

import hashlib
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from redline.errors import Location, ParameterError, ScenarioError

__all__ = ["POSTERIOR_KEY", "Posterior", "posterior_params", "prior_draws", "write_posterior", "read_posterior", "load_posterior", "posterior_beside",
           "shipped_posterior", "atomic_write"]

POSTERIOR_KEY = b"redline.posterior"
FORMAT = "redline.posterior/1"
_DRAW_KEY = zlib.crc32(b"posterior draws")


@dataclass
class Posterior:
    """Weighted particles over some of a scenario's uncertainties.

    Attributes
    ----------
    path: the file.
    sha256: hash of the file's bytes.
    names: calibrated parameters (columns).
    theta: (particles, parameters) values.
    weights: (particles,) normalised weights.
    metadata: the JSON metadata (scenario, record, seed, generations, checks, ...).
    """

    path: Path
    sha256: str
    names: list[str]
    theta: np.ndarray
    weights: np.ndarray
    metadata: dict[str, Any]

    @property
    def particles(self) -> int:
        return int(self.weights.size)

    def draw(self, runs: int, seed: Any) -> dict[str, np.ndarray]:
        """One parameter vector per run, drawn by weight (systematic resampling, Kitagawa 1996).

        The draws come from their own stream (``SeedSequence(seed, spawn_key=(crc32('posterior
        draws'),))``), so the engine's random streams are the same as without a posterior.
        """
        from redline.escalation.common import as_seed_sequence

        ss = as_seed_sequence(seed)
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key)
                                                                         + (_DRAW_KEY,))))
        cdf = np.cumsum(self.weights)
        cdf /= cdf[-1]
        positions = (rng.random() + np.arange(runs)) / runs
        idx = np.minimum(np.searchsorted(cdf, positions, side="left"), self.weights.size - 1)
        idx = idx[rng.permutation(runs)]  # systematic positions are ordered: shuffle runs among them
        return {name: self.theta[idx, k].copy() for k, name in enumerate(self.names)}

    def describe(self) -> dict[str, Any]:
        """What ``--json`` records about a posterior that was used."""
        return {"path": str(self.path), "sha256": self.sha256, "particles": self.particles}


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` and rename the result onto ``path`` (same directory: atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_posterior(path: str | Path, names: list[str], theta: np.ndarray, weights: np.ndarray,
                    metadata: dict[str, Any]) -> Path:
    """Write weighted particles and their metadata to a Parquet file, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {name: pa.array(np.asarray(theta[:, k], dtype=float)) for k, name in enumerate(names)}
    columns["weight"] = pa.array(np.asarray(weights, dtype=float))
    meta = {**metadata, "format": FORMAT, "parameters_order": list(names)}
    table = pa.table(columns).replace_schema_metadata({POSTERIOR_KEY: json.dumps(meta, sort_keys=True).encode()})
    path = Path(path)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))
    return path


def read_posterior(path: str | Path) -> Posterior:
    """Read a posterior file; a file that is not one is a located :class:`ScenarioError`."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"no posterior file '{path}'")
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        raise ParameterError("reading a posterior needs pyarrow") from None
    raw = path.read_bytes()
    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises several types for a file that is not Parquet
        raise ScenarioError(f"not a posterior file (Parquet): {type(err).__name__}", Location(str(path))) from None
    meta_raw = (table.schema.metadata or {}).get(POSTERIOR_KEY)
    if meta_raw is None:
        raise ScenarioError("a Parquet file without redline posterior metadata (write one with `redline calibrate`)",
                            Location(str(path)))
    metadata = json.loads(meta_raw)
    if metadata.get("format") != FORMAT:
        raise ScenarioError(f"posterior format '{metadata.get('format')}' is not {FORMAT}", Location(str(path)))
    names = [n for n in metadata["parameters_order"]]
    missing = [n for n in names + ["weight"] if n not in table.column_names]
    if missing:
        raise ScenarioError(f"posterior file lacks column '{missing[0]}'", Location(str(path)))
    theta = np.column_stack([table.column(n).to_numpy() for n in names]) if names else np.zeros((table.num_rows, 0))
    weights = table.column("weight").to_numpy().astype(float)
    if weights.size == 0 or not np.all(np.isfinite(weights)) or (weights < 0).any() or weights.sum() <= 0:
        raise ScenarioError("posterior weights must be finite, non-negative and not all zero", Location(str(path)))
    if not np.all(np.isfinite(theta)):
        raise ScenarioError("posterior particles must be finite", Location(str(path)))
    return Posterior(path, hashlib.sha256(raw).hexdigest(), names, theta, weights / weights.sum(), metadata)


def load_posterior(path: str | Path, loaded) -> Posterior:
    """Read a posterior and check it belongs to ``loaded`` (same scenario hash, known ranges)."""
    post = read_posterior(path)
    want = post.metadata.get("scenario_sha256")
    if want != loaded.sha256:
        raise ScenarioError(
            f"this posterior was fitted to scenario '{post.metadata.get('scenario')}' with sha256 {str(want)[:12]}…, "
            f"not to {loaded.id} (sha256 {loaded.sha256[:12]}…): calibrate again, or run with --prior",
            Location(str(post.path)))
    ranges = loaded.program.parameter_ranges
    for k, name in enumerate(post.names):
        if name not in ranges:
            raise ScenarioError(f"posterior parameter '{name}' is not a parameter of {loaded.id}", Location(str(post.path)))
        lo, hi = ranges[name]
        if post.theta[:, k].min() < lo or post.theta[:, k].max() > hi:
            raise ScenarioError(f"posterior values of '{name}' leave its range [{lo:g}, {hi:g}]", Location(str(post.path)))
    return post


def posterior_beside(loaded) -> Path | None:
    """The posterior shipped beside a scenario file (``<name>.posterior.parquet``), or None."""
    if loaded.path is None:
        return None
    path = Path(loaded.path)
    candidate = path.with_name(path.name.rsplit(".", 1)[0] + ".posterior.parquet")
    return candidate if candidate.is_file() else None


def shipped_posterior(loaded, *, prior: bool = False) -> Posterior | None:
    """The posterior a run of ``loaded`` draws its parameters from by default: the one shipped beside
    its file (:func:`posterior_beside`), read and checked against the scenario; None with ``prior``
    (run from the priors) or when none ships (a scenario given as text, e.g. an upload, has no file).

    Every interface that runs a scenario (the CLI's ``run``, ``compare``, ``forecast``; the web
    app's jobs) chooses through this one function, so the same scenario, seed and runs give the
    same parameter draws, hence the same numbers, whichever interface ran them.
    """
    if prior:
        return None
    beside = posterior_beside(loaded)
    return None if beside is None else load_posterior(beside, loaded)


def posterior_params(posterior: Posterior | None, params: dict[str, Any] | None, runs: int, seed: Any) -> dict[str, Any]:
    """Per-run parameters drawn from ``posterior``, with ``params`` (pinned values) taking precedence."""
    drawn = posterior.draw(runs, seed) if posterior is not None else {}
    return {**drawn, **(params or {})}


def prior_draws(loaded, runs: int, seed: Any) -> dict[str, np.ndarray]:
    """One value per run of every uncertainty, uniform on its declared range (its prior), from a
    stream of their own (the engine's random numbers are unchanged)."""
    from redline.escalation.common import as_seed_sequence

    ss = as_seed_sequence(seed)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        ss.entropy, spawn_key=tuple(ss.spawn_key) + (zlib.crc32(b"prior draws"),))))
    ranges = loaded.program.parameter_ranges
    return {name: rng.uniform(*ranges[name], size=runs) for name in loaded.spec.uncertainties}
