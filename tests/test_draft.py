"""`redline draft`: reading articles, actors, claims, hedges, the skeleton, scoring, review page, CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from redline.cli import app
from redline.draft import build_skeleton, check_article, extract, load_gold, score, to_yaml
from redline.draft.evaluate import score_actors, score_claims
from redline.draft.review import review_html, review_markdown
from redline.draft.text import clauses, sentences
from redline.draft.wep import find_hedges
from redline.errors import ParameterError
from redline.scenario.load import scenario_from_text
from tests.conftest import SHARED, redline_cli

DATA = Path(__file__).resolve().parent / "data" / "draft"
SEED = SHARED / "seed"
needs_seed = pytest.mark.skipif(not (SEED / "gold.yaml").exists(), reason="shared/seed is not beside the repo")
runner = CliRunner()


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --- reading ---------------------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (bytes(range(256)) * 8, "binary"),
    ("caf\xe9 cr\xe8me".encode("latin-1"), "not UTF-8"),
    (b"just some words without end\nanother line", "no sentences"),
    (b"x" * 1_000_001, "limit"),
])
def test_bad_articles_are_refused_with_a_location(data, message):
    with pytest.raises(ParameterError) as err:
        check_article(data, "a.txt")
    assert message in str(err.value)
    assert str(err.value).startswith("a.txt:")


def test_non_utf8_points_at_the_bad_byte():
    with pytest.raises(ParameterError) as err:
        check_article("Line one is fine.\nOui, c'est \xe9t\xe9 dur.".encode("latin-1"), "f.txt")
    assert str(err.value).startswith("f.txt:2:12:")


def test_sentences_and_clauses_keep_exact_offsets():
    text = "Headline without stop\n\nDr. Smith said it. “We will go,” he said; they may not. The U.S. agreed, but Iran did not."
    segs = sentences(text)
    assert segs[0].heading and segs[0].text == "Headline without stop"
    for s in segs:
        assert text[s.start:s.end] == s.text
        for c in clauses(s):
            assert text[c.start:c.end] == c.text
    assert any(s.text.startswith("Dr. Smith said it.") for s in segs)  # no break after "Dr."


# --- hedges ----------------------------------------------------------------------------------

def test_hedges_map_to_published_ranges():
    (s, e, h), = find_hedges("A truce is very likely by spring.")
    assert (h.term, h.low, h.high, h.scheme) == ("very likely", 0.80, 0.95, "icd203")
    (_, _, h), = find_hedges("It is probably not over.")
    assert (h.low, h.high, h.scheme) == (0.20, 0.40, "kent1964")  # Kent: 30% give or take 10
    assert find_hedges("compensates for its lack of military might – compared to the US") == []
    assert [m[2].term for m in find_hedges("These calls may dissipate")] == ["general area of possibility"]


# --- actors and claims -----------------------------------------------------------------------

def test_invented_names_are_found_from_rules_not_lists():
    ex = extract("Valdoria warned it would cut gas supplies to Ostria. Ostria has said it will resist. "
                 "President Anna Kessel of Valdoria called it a red line. Kessel said talks are unlikely.")
    names = {a.name: a for a in ex.actors}
    assert {"Valdoria", "Ostria", "Anna Kessel"} <= set(names)
    assert names["Anna Kessel"].kind == "leader" and "Kessel" in names["Anna Kessel"].aliases
    types = [c.type for c in ex.claims]
    assert types[0] == "threat" and "red_line" in types and "modal_assessment" in types


def test_places_and_possessions_are_not_actors():
    ex = extract("Iran attacked a tanker near Oman. The talks in Geneva failed. His Twitter feed said so. "
                 "Iran warned that it would respond. British Royal Marines boarded the tanker Grace Star in the Gulf.")
    assert [a.name for a in ex.actors] == ["Iran"]


def test_mentions_are_whole_word_and_never_overlap():
    text = "The Iranian-backed group met Iran's envoy. Qasem Soleimani died; Soleimani was buried in Iran."
    ex = extract(text)
    spans = sorted(m for a in ex.actors for m in a.mentions)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    iran = next(a for a in ex.actors if a.name == "Iran")
    assert [text[s:e] for s, e in iran.mentions] == ["Iran", "Iran"]  # not "Iranian-backed"


@needs_seed
def test_seed_quality_goals():
    text = _text(SEED / "article.txt")
    result = score(extract(text), load_gold(SEED / "gold.yaml", text))
    assert result["actors"]["f1"] >= 0.9
    assert result["claims"]["f1"] >= 0.6
    assert result["types"]["accuracy"] >= 0.6


@pytest.mark.parametrize("name", ["kashmir", "hormuz", "karabakh"])
def test_other_articles_quality(name):
    """Other crises with their own gold (India-Pakistan 2019; Gulf tankers 2019; Karabakh 2020, held out from
    the rules' development), to check the rules generalise: the issue's goals, with actors a little lower."""
    text = _text(DATA / f"{name}.txt")
    result = score(extract(text), load_gold(DATA / f"{name}.gold.yaml", text))
    assert result["actors"]["f1"] >= 0.85
    assert result["claims"]["f1"] >= 0.6
    assert result["types"]["accuracy"] >= 0.6


def test_claim_anchors_are_exact():
    text = _text(DATA / "kashmir.txt")
    for c in extract(text).claims:
        assert text[c.start:c.end] == c.anchor_text
        if c.type == "modal_assessment":
            assert c.modality and c.modality in c.anchor_text and 0 < c.probability["low"] < c.probability["high"]


# --- scoring ---------------------------------------------------------------------------------

def test_scoring_rules():
    gold = [{"id": "g1", "start": 10, "end": 20, "type": "event"}, {"id": "g2", "start": 30, "end": 40, "type": "aim"}]
    pred = [{"id": "p1", "start": 0, "end": 25, "type": "event"},   # contains g1
            {"id": "p2", "start": 36, "end": 50, "type": "aim"},    # overlap 4 < half of 10
            {"id": "p3", "start": 12, "end": 18, "type": "aim"}]    # overlaps g1 too, but g1 is taken
    r = score_claims(pred, gold)
    assert (r["claims"]["matched"], r["claims"]["precision"], r["claims"]["recall"]) == (1, round(1 / 3, 4), 0.5)
    assert r["types"]["accuracy"] == 1.0
    ga = [{"id": "a", "mentions": [[0, 4], [10, 14]]}, {"id": "b", "mentions": [[20, 22]]}]
    pa = [{"id": "x", "mentions": [[0, 4], [10, 14], [20, 22]]}, {"id": "y", "mentions": [[21, 23]]}]
    assert score_actors(pa, ga)["f1"] == round(2 * 0.5 * 0.5 / 1.0, 4)  # y shares no exact span
    assert score_actors(pa, ga, lenient=True)["matched"] == 2


@needs_seed
def test_gold_scores_perfectly_against_itself():
    text = _text(SEED / "article.txt")
    gold = load_gold(SEED / "gold.yaml", text)
    assert score_claims(gold["claims"], gold["claims"])["claims"]["f1"] == 1.0
    assert score_actors(gold["actors"], gold["actors"])["f1"] == 1.0


# --- skeleton and review -------------------------------------------------------------------------

def test_skeleton_validates_and_every_source_is_in_the_article():
    text = _text(DATA / "kashmir.txt")
    ex = extract(text)
    sk = build_skeleton(ex, scenario_id="kashmir-draft")
    body = to_yaml(sk, header="test")
    loaded = scenario_from_text(body, name="kashmir-draft.yaml")
    # Every element is sourced; what the scenario linter (issue 21) still flags is the analyst's to-do
    # list of a skeleton: quantities nothing reads yet, and options of one track that can sum past 1.
    todo = ("is read by no expression", "is neither read nor changed", "can sum to")
    assert [w for w in loaded.warnings if not any(t in w for t in todo)] == []
    doc = yaml.safe_load(body)
    assert doc["meta"]["as_of"] == "2019-02-26"  # the first date written in the article
    spans = [el["source"] for sec in ("actors", "state", "actions", "red_lines", "outcomes", "uncertainties")
             for el in doc.get(sec, {}).values() if isinstance(el.get("source"), dict) and "start" in el["source"]]
    assert len(spans) >= 20
    assert all(0 <= s["start"] < s["end"] <= len(text) for s in spans)
    # Numbers the article does not give are labelled assumptions with wide ranges.
    for u in doc["uncertainties"].values():
        assert u["low"] < u["high"] and ("assumption" in u or "source" in u)
    warheads = [v for v in doc["state"].values() if "170" in str(v.get("assumption", ""))]
    assert warheads and warheads[0]["initial"] == "uniform(127.5, 212.5)"
    assert any("decide" in d for d in sk.decide) and len(sk.decide) >= 5


def test_review_pages_link_claims_to_elements():
    text = _text(DATA / "kashmir.txt")
    ex = extract(text)
    sk = build_skeleton(ex, scenario_id="kashmir-draft")
    page = review_html(ex, sk, title="t")
    assert page.count("<mark ") == len(ex.claims)
    assert "http://" not in page and "https://" not in page and "<script" not in page  # self-contained
    assert 'href="#claim-1"' in page and 'id="claim-1"' in page
    md = review_markdown(ex, sk, title="t")
    assert "## What the analyst must decide" in md and "`actions." in md


# --- CLI -------------------------------------------------------------------------------------

def test_cli_writes_scenario_claims_and_review(tmp_path):
    out = tmp_path / "d" / "draft.yaml"
    res = runner.invoke(app, ["draft", str(DATA / "kashmir.txt"), "--out", str(out), "--id", "kashmir", "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    # no errors; its warnings are the scenario linter's to-do list for a skeleton (issue 21), as
    # test_skeleton_validates_and_every_source_is_in_the_article checks
    assert payload["validation"]["errors"] == 0
    for key in ("scenario", "claims", "review_md", "review_html"):
        assert Path(payload["files"][key]).is_file()
    assert yaml.safe_load(out.read_text())["meta"]["id"] == "kashmir"
    claims = yaml.safe_load(Path(payload["files"]["claims"]).read_text())
    assert {"actors", "claims"} <= set(claims)
    res = redline_cli("validate", str(out))
    assert res.returncode == 0, res.stdout + res.stderr


def test_cli_evaluate_json_keys():
    res = runner.invoke(app, ["draft", str(DATA / "kashmir.txt"), "--evaluate", str(DATA / "kashmir.gold.yaml"),
                              "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    for key in ("actors", "claims"):
        assert {"precision", "recall", "f1"} <= set(payload[key])
    assert "accuracy" in payload["types"] and "accuracy" in payload["modality"]


@pytest.mark.parametrize("content, option", [
    (b"", None), (b"\x00\x01binary", None), ("\xe9t\xe9".encode("latin-1"), None),
    (b"A sentence that is fine here.", ["--as-of", "yesterday"]), (b"A sentence that is fine here.", ["--id", "Bad Id"]),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, content, option):
    path = tmp_path / "a.txt"
    path.write_bytes(content)
    res = runner.invoke(app, ["draft", str(path), *(option or [])])
    assert res.exit_code == 2
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in res.output


def test_cli_missing_article_exits_2(tmp_path):
    res = redline_cli("draft", str(tmp_path / "nope.txt"))
    assert res.returncode == 2 and "no such article file" in res.stderr and "Traceback" not in res.stderr


def test_public_api_drafts_an_article():
    import redline

    ex, sk = redline.draft_article(_text(DATA / "hormuz.txt"), scenario_id="hormuz-draft")
    assert "draft_article" in redline.__all__
    assert sk.scenario["meta"]["id"] == "hormuz-draft" and ex.backend == "rules"
    todo = ("is read by no expression", "is neither read nor changed", "can sum to")  # a skeleton's to-do list
    warnings = scenario_from_text(to_yaml(sk), name="hormuz-draft.yaml").warnings
    assert [w for w in warnings if not any(t in w for t in todo)] == []
