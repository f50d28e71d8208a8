"""docs/format.md is generated from the schema: stale or incomplete, it fails here."""
from __future__ import annotations

import pytest

from redline.scenario import format_reference as fr
from tests.conftest import ROOT


def test_docs_format_md_is_current():
    on_disk = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    assert on_disk == fr.render(), "docs/format.md is stale: run `make docs`"


def test_every_field_of_every_model_has_a_meaning():
    for model in fr.models():
        assert set(model.model_fields) == set(fr.MEANINGS[model.__name__]), model.__name__


def test_a_field_without_a_meaning_is_refused(monkeypatch):
    monkeypatch.setitem(fr.MEANINGS, "Meta", {k: v for k, v in fr.MEANINGS["Meta"].items() if k != "horizon"})
    with pytest.raises(RuntimeError, match="Meta.horizon has no meaning"):
        fr.render()


def test_reference_lists_required_and_defaults():
    text = fr.render()
    assert "| `horizon` | whole number | no | `104` |" in text
    assert "| `owner` | text | yes | — |" in text
    assert "If they sum\npast 1, each is scaled to its share" in text or "past 1, each is scaled" in text
