"""Sensitivity indices warn when the sample is too small for their method."""
from __future__ import annotations

from redline.analysis.sensitivity import sample_warning


def test_small_rbd_fast_sample_is_flagged_with_the_bias_and_a_size():
    w = sample_warning("rbd_fast", 32, 4, {"S1": [0.5, 0.4, 0.3, 0.19]})
    assert w is not None and "RBD-FAST" in w and "past 1" in w and "--samples 800" in w
    assert "0.12" in w  # 2M/N with M = 2, N = 32


def test_large_rbd_fast_sample_passes():
    assert sample_warning("rbd_fast", 2000, 3, {"S1": [0.5, 0.2, 0.1]}) is None


def test_rbd_fast_sum_past_one_is_flagged_even_when_large():
    assert "past 1" in sample_warning("rbd_fast", 2000, 3, {"S1": [0.6, 0.4, 0.2]})


def test_morris_and_sobol_minimums():
    assert sample_warning("morris", 40, 3, {"mu_star": [1, 2, 3]}) is None  # 10 trajectories
    assert "trajectories" in sample_warning("morris", 20, 3, {"mu_star": [1, 2, 3]})
    assert "Sobol base sample of 64" in sample_warning("sobol", 64 * 5, 3, {"S1": [0.1, 0.2, 0.3]})
    assert sample_warning("sobol", 512 * 5, 3, {"S1": [0.1, 0.2, 0.3]}) is None


def test_no_indices_no_warning():
    assert sample_warning("rbd_fast", 10, 3, {}) is None
