"""redline.budget: seeds checked once, and the memory budget read from the environment."""
from __future__ import annotations

import numpy as np
import pytest

from redline.budget import BUDGET_ENV, MAX_SEED, check_memory, check_seed, format_bytes, memory_budget
from redline.errors import ParameterError, ResourceError


@pytest.mark.parametrize("seed", [0, 7, MAX_SEED, np.int64(3)])
def test_check_seed_accepts_whole_numbers_in_range(seed):
    assert check_seed(seed) == int(seed) and type(check_seed(seed)) is int


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1, 1.0, True, "3", None])
def test_check_seed_refuses_the_rest_naming_the_option(seed):
    with pytest.raises(ParameterError, match="--seed must be a whole number"):
        check_seed(seed, "--seed")


@pytest.mark.parametrize("text, expected", [("2G", 2 << 30), ("512M", 512 << 20), ("512MiB", 512 << 20),
                                            ("1.5k", 1536), ("4096", 4096), ("100B", 100)])
def test_memory_budget_reads_sizes_with_units(monkeypatch, text, expected):
    monkeypatch.setenv(BUDGET_ENV, text)
    assert memory_budget() == expected


@pytest.mark.parametrize("text", ["lots", "-1G", "0"])
def test_memory_budget_refuses_what_is_not_a_positive_size(monkeypatch, text):
    monkeypatch.setenv(BUDGET_ENV, text)
    with pytest.raises(ResourceError, match=BUDGET_ENV):
        memory_budget()


def test_memory_budget_defaults_to_half_the_machine_at_least_256_mib(monkeypatch):
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    assert memory_budget() >= 256 << 20


def test_check_memory_names_the_largest_parts_and_the_advice(monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "1M")
    assert check_memory({"a": 1000, "b": 24}, "x") == 1024
    with pytest.raises(ResourceError) as err:
        check_memory({"windows": 3 << 20, "results": 1 << 20, "tiny": 1}, "simulating 9 runs", "lower the runs")
    message = str(err.value)
    assert "about 4.0 MiB" in message and "windows 3.0 MiB, results 1.0 MiB" in message
    assert "budget of 1.0 MiB" in message and message.endswith("; lower the runs")


def test_format_bytes():
    assert [format_bytes(n) for n in (0, 1023, 1024, 1536 << 20, 3 << 40)] == \
        ["0 B", "1023 B", "1.0 KiB", "1.5 GiB", "3.0 TiB"]
