"""Every figure quoted in README.md and docs/*.md is what its command prints today."""
from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("quoted_figures", ROOT / "docs" / "quoted_figures.py")
qf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(qf)


def test_every_marker_is_registered_and_every_entry_quoted():
    found, reg = qf.markers(), qf.registry()
    assert set(found) <= set(reg), sorted(set(found) - set(reg))
    assert set(reg) <= set(found), f"registered but quoted nowhere: {sorted(set(reg) - set(found))}"


def test_lookup_and_format():
    data = {"differences": [{"a": "x", "b": "y", "outcome": "o", "difference": -0.5, "ci95": [-0.6, -0.4]}]}
    assert qf.lookup(data, "differences[a=x,outcome=o].difference") == -0.5
    assert qf.lookup(data, "differences[a=x,b=y].ci95.1") == -0.4
    assert qf.formatted(-0.5, {"format": "{:+.3f}", "minus": "unicode"}) == "\u22120.500"
    assert qf.formatted([-0.6, 0.4], {"format": "[{0[0]:+.3f}, {0[1]:+.3f}]"}) == "[-0.600, +0.400]"
    with pytest.raises(KeyError):
        qf.lookup(data, "differences[a=z].difference")


def test_a_drifted_figure_is_reported(tmp_path, monkeypatch):
    doc = tmp_path / "README.md"
    doc.write_text("exit <!--fig:example_leaves-->+0.100<!--/fig-->\n")
    monkeypatch.setattr(qf, "documents", lambda: [doc])
    monkeypatch.setattr(qf, "ROOT", tmp_path)
    assert qf.drift({"example_leaves": "+0.946"}) == ["README.md: example_leaves quotes +0.100, its command now gives +0.946"]
    qf.write({"example_leaves": "+0.946"})
    assert doc.read_text() == "exit <!--fig:example_leaves-->+0.946<!--/fig-->\n"


@pytest.mark.slow
def test_no_quoted_figure_has_drifted():
    assert qf.drift(qf.compute()) == []
