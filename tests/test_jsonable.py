"""redline.jsonable: numpy values become JSON values; NaN and infinities become null."""
from __future__ import annotations

import json

import numpy as np

from redline.jsonable import to_jsonable


def test_numpy_scalars_and_arrays_become_python_values():
    out = to_jsonable({"i": np.int64(3), "f": np.float32(0.5), "b": np.bool_(True),
                       "a": np.array([[1, 2], [3, 4]]), "t": (np.int8(1), "x")})
    assert out == {"i": 3, "f": 0.5, "b": True, "a": [[1, 2], [3, 4]], "t": [1, "x"]}
    assert type(out["i"]) is int and type(out["f"]) is float and type(out["b"]) is bool
    json.dumps(out, allow_nan=False)  # standard JSON


def test_non_finite_numbers_become_null_at_any_depth():
    out = to_jsonable({"nan": float("nan"), "inf": np.inf, "deep": [{"x": np.array([1.0, np.nan, -np.inf])}]})
    assert out == {"nan": None, "inf": None, "deep": [{"x": [1.0, None, None]}]}


def test_keys_become_strings_and_other_values_pass_through():
    marker = object()
    out = to_jsonable({1: "a", ("k",): marker, None: None})
    assert out == {"1": "a", "('k',)": marker, "None": None}
