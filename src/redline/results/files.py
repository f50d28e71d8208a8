"""Result files on disk: a directory holding the Dataset (netCDF) and its JSON summary.

Files are written atomically (to a temporary name, then renamed), so an interrupted write
never leaves a half-written result behind.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from redline.errors import RedlineError
from redline.jsonable import to_jsonable

__all__ = ["atomic_write_bytes", "atomic_write_text", "check_out_dir", "save_result", "load_result", "to_jsonable"]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def save_result(directory: str | Path, datasets: dict[str, xr.Dataset], summary: dict[str, Any]) -> Path:
    """Write ``summary.json`` and one ``<name>.nc`` per dataset into ``directory``."""
    directory = check_out_dir(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, ds in datasets.items():
        encoded = ds.copy()
        for var in encoded.data_vars:
            if encoded[var].dtype == bool:
                encoded[var] = encoded[var].astype(np.int8)
        atomic_write_bytes(directory / f"{name}.nc", encoded.to_netcdf(engine="scipy"))
    manifest = {**summary, "datasets": sorted(datasets)}
    atomic_write_text(directory / "summary.json", json.dumps(to_jsonable(manifest), indent=2))
    return directory


def check_out_dir(directory: str | Path) -> Path:
    """``directory`` if a result can be written there (checked before any work is done).

    Raises
    ------
    RedlineError
        if it is a file, or the nearest existing folder above it is not writable.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise RedlineError(f"--out {directory}: is a file; give a folder (it is created if missing)")
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK):
        raise RedlineError(f"--out {directory}: cannot write into '{existing}' (permission denied or read-only)")
    return directory


def load_result(directory: str | Path) -> tuple[dict[str, Any], dict[str, xr.Dataset]]:
    """Read a result directory written by :func:`save_result`.

    Raises
    ------
    RedlineError
        one line naming the damaged file: unreadable or malformed ``summary.json``, a missing or
        corrupt ``<name>.nc``.
    """
    directory = Path(directory)
    manifest = directory / "summary.json"
    if not manifest.is_file():
        raise RedlineError(f"'{directory}' is not a redline result directory (no summary.json)")
    try:
        summary = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise RedlineError(f"{manifest}: damaged result summary ({str(err).splitlines()[0][:120]})") from None
    names = summary.get("datasets", []) if isinstance(summary, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) and n and "/" not in n and n not in (".", "..")
                                              for n in names):
        raise RedlineError(f"{manifest}: damaged result summary (expected an object with a 'datasets' list of names)")
    datasets = {}
    for name in names:
        try:
            ds = xr.load_dataset(directory / f"{name}.nc", engine="scipy")
        except FileNotFoundError:
            raise RedlineError(f"{directory / (name + '.nc')}: missing from the result folder") from None
        except Exception as err:  # scipy/xarray raise many types on a damaged file
            raise RedlineError(f"{directory / (name + '.nc')}: damaged result file "
                               f"({type(err).__name__}: {str(err).splitlines()[0][:100] if str(err) else ''})") from None
        for var in ("outcome_occurred", "red_line_enforced", "failed"):
            if var in ds:
                ds[var] = ds[var].astype(bool)
        datasets[name] = ds
    return summary, datasets
