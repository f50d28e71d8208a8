"""`redline draft` on the development set (tests/data/draft_dev/): every gold file passes ANNOTATION.md's
checks, the drafter scores above a floor on each article and on average, and each general rule added
for it works on a sentence of its own."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from redline.draft import extract, load_gold, score
from redline.draft.claims import classify
from redline.draft.evaluate import gold_exclusions, gold_problems
from redline.draft.text import clauses, sentences
from redline.draft.wep import find_hedges
from tests.conftest import SHARED

DEV = Path(__file__).resolve().parent / "data" / "draft_dev"
OLD = Path(__file__).resolve().parent / "data" / "draft"
DEV_ARTICLES = ["balakot", "kerch", "taiwan", "nile", "amenas", "aegean", "vilnius", "redsea", "belarus", "ransomware"]


def _gold_files():
    out = [(DEV / f"{n}.txt", DEV / f"{n}.gold.yaml") for n in DEV_ARTICLES]
    out += [(OLD / f"{n}.txt", OLD / f"{n}.gold.yaml") for n in ("kashmir", "hormuz", "karabakh")]
    seed = SHARED / "seed"
    if (seed / "gold.yaml").exists():
        out.append((seed / "article.txt", seed / "gold.yaml"))
    return out


# --- the gold files ---------------------------------------------------------------------------

@pytest.mark.parametrize("article, gold", _gold_files(), ids=lambda p: p.parent.name + "/" + p.name)
def test_gold_files_pass_the_annotation_checks(article, gold):
    text = article.read_text(encoding="utf-8")
    raw = gold.read_text(encoding="utf-8")
    assert gold_problems(yaml.safe_load(raw), text, gold_exclusions(raw)) == []


def test_dev_articles_are_the_promised_size():
    # balakot is the lead's shorter piece; the first five written for redline run 400-900 words, the later
    # ones (vilnius, redsea and the held-out belarus) 700-1,200 (a longer article tests more of the rules)
    for n in DEV_ARTICLES[1:]:
        assert 400 <= len((DEV / f"{n}.txt").read_text(encoding="utf-8").split()) <= 1200


def _doc(text, **over):
    doc = {"actors": [{"id": "valdoria", "name": "Valdoria", "kind": "state", "aliases": ["Valdoria"],
                       "mentions": [[0, 8]]}],
           "claims": [{"id": "c1", "start": 0, "end": 14, "anchor_text": text[0:14], "type": "event"}]}
    doc.update(over)
    return doc


def test_gold_checker_catches_each_kind_of_error():
    text = "Valdoria voted. Valdoria-backed groups may strike Valdoria."
    # the second whole-word "Valdoria" (at 50) is neither marked nor excluded; the hyphenated one never counts
    assert any("[50, 58]" in p for p in gold_problems(_doc(text), text))
    assert gold_problems(_doc(text), text, {(50, 58, "Valdoria")}) == []
    full = _doc(text, actors=[{"id": "v", "name": "Valdoria", "kind": "state", "aliases": ["Valdoria", "Ostria"],
                               "mentions": [[0, 8], [50, 58]]}])
    assert any("'Ostria' is never marked" in p for p in gold_problems(full, text))
    overlap = _doc(text, actors=[
        {"id": "v", "name": "Valdoria", "kind": "state", "aliases": ["Valdoria"], "mentions": [[0, 8], [50, 58]]},
        {"id": "w", "name": "Vald", "kind": "state", "aliases": ["Valdoria voted"], "mentions": [[0, 14]]}])
    assert any("overlap" in p for p in gold_problems(overlap, text))
    bad_claims = [{"id": "c1", "start": 0, "end": 14, "anchor_text": "Valdoria voted", "type": "event",
                   "modality": "may"},
                  {"id": "c1", "start": 16, "end": 20, "anchor_text": "nope", "type": "guess"}]
    problems = gold_problems(_doc(text, claims=bad_claims), text, {(50, 58, "Valdoria")})
    assert any("not unique" in p for p in problems)
    assert any("not the anchor_text" in p for p in problems)
    assert any("not one of the eight" in p for p in problems)
    assert any("`modality` belongs" in p for p in problems)


def test_exclusions_are_read_from_the_header():
    raw = '# EXCLUDED ON PURPOSE: "US" at [4958, 4960], inside "the US electorate"; "Ostria" at [1, 7],\n#   [9, 15].\n'
    assert gold_exclusions(raw) == {(4958, 4960, "US"), (1, 7, "Ostria"), (9, 15, "Ostria")}


# --- the drafter on the development set -----------------------------------------------------------

# Floors a little under what the rules reach (actors F1, claims F1, type accuracy), so a regression shows.
# Reached after the second round (vilnius and redsea written and annotated before the drafter saw them, then
# tuned on; belarus and ransomware held out, each scored ONCE before any rule looked at it, then a few general
# fixes): balakot 1.00/0.98/0.96, kerch 1.00/0.93/0.97, taiwan 0.94/0.93/0.88, nile 1.00/0.95/0.92,
# amenas 1.00/0.93/0.81, aegean 1.00/0.94/0.82, vilnius 0.92/0.95/0.92, redsea 0.90/0.95/0.90,
# belarus 0.93/0.89/0.74, ransomware 0.89/0.88/0.85; mean of ten 0.96/0.93/0.88. The held-out single scores:
# belarus 0.90/0.89/0.72, ransomware 0.74/0.88/0.76. Before the round: vilnius 0.83/0.93/0.70,
# redsea 0.58/0.92/0.70.
FLOOR = {"actors": 0.85, "claims": 0.88, "types": 0.75}
# The two held-out articles sit at or under the common floor; their own floors keep what they reach.
OWN_FLOOR = {("belarus", "types"): 0.72, ("ransomware", "claims"): 0.86}
MEAN_FLOOR = {"actors": 0.94, "claims": 0.92, "types": 0.86}


def _scores(name):
    text = (DEV / f"{name}.txt").read_text(encoding="utf-8")
    r = score(extract(text), load_gold(DEV / f"{name}.gold.yaml", text))
    return {"actors": r["actors"]["f1"], "claims": r["claims"]["f1"], "types": r["types"]["accuracy"]}


def test_dev_set_scores_hold():
    scores = {n: _scores(n) for n in DEV_ARTICLES}
    low = {(n, k): v for n, s in scores.items() for k, v in s.items() if v < OWN_FLOOR.get((n, k), FLOOR[k])}
    assert not low, f"below the per-article floor {FLOOR}: {low}"
    mean = {k: sum(s[k] for s in scores.values()) / len(scores) for k in FLOOR}
    assert all(mean[k] >= MEAN_FLOOR[k] for k in MEAN_FLOOR), (mean, MEAN_FLOOR)


# --- actors: one general rule per test ------------------------------------------------------------

def _names(text):
    return {a.name: a for a in extract(text).actors}


def test_headline_capitals_are_no_actor():
    names = _names("India and Pakistan Step Back From the Brink, for Now\n\nIndia warned Pakistan. Pakistan said no.")
    assert set(names) == {"India", "Pakistan"}


def test_a_title_case_headline_ending_in_a_question_is_a_heading():
    segs = sentences("Algeria's Way With Hostage-Takers Has a Price — Who Pays It?\n\nCould it come to war?\n\n"
                     "Is the war over? Nobody knows yet.")
    assert [s.heading for s in segs] == [True, True, False, False]


def test_a_rank_before_a_name_is_cut_off():
    names = _names("Its pilot, Wing Commander Abhinandan Varthaman, was captured. Varthaman was returned.")
    assert "Abhinandan Varthaman" in names and "Varthaman" in names["Abhinandan Varthaman"].aliases


def test_a_states_own_force_is_the_state():
    text = "On Tuesday the Pakistan Air Force answered with strikes. Pakistan said it had hit back."
    names = _names(text)
    assert set(names) == {"Pakistan"}
    assert [text[s:e] for s, e in names["Pakistan"].mentions] == ["Pakistan", "Pakistan"]


def test_a_name_seen_only_after_place_words_is_a_place():
    names = _names("India struck a camp near Balakot, in Khyber Pakhtunkhwa. Islamabad denied it. "
                   "The siege near In Amenas is over.")
    assert "Khyber Pakhtunkhwa" not in names and "In Amenas" not in names and "Pakistan" in names


@pytest.mark.parametrize("text, expected, exact", [
    # things and places by their head noun, and ships, are no actors
    ("A tanker was parked under the new Crimean Bridge. The Roseires Dam lies downstream. The USS Ronald Reagan "
     "stayed east. Russia closed the Kerch Strait, and the Kerch Strait stayed shut.", {"Russia"}, True),
    # a name only ever after a generic noun is a thing's; an indefinite pronoun is no name
    ("Nobody was hurt. The Greek frigate Limnos and the Turkish frigate Kemal Reis collided. Greece protested.",
     {"Greece"}, True),
    # sources: an outlet that reports, an author described as a fellow who only writes
    ("Reuters reported that Iran moved missiles. Iran denied it. Jane Smith is a senior fellow at a research "
     "institute in London. Jane Smith wrote this brief.", {"Iran"}, True),
    # a list shares its verb; "neither X nor Y" is a list
    ("The United States, China and Saudi Arabia all pressed both capitals to show restraint.",
     {"United States", "China", "Saudi Arabia"}, False),
    ("Neither Egypt nor Sudan will sign the deal.", {"Egypt", "Sudan"}, False),
    # an institution's present verb before a preposition
    ("The European Council meets on 24 September.", {"European Council"}, False),
])
def test_which_names_are_actors(text, expected, exact):
    names = set(_names(text))
    assert names == expected if exact else expected <= names


def test_adverbs_and_parentheses_between_a_name_and_its_verb():
    names = _names("Washington in particular worked the phones. Belmokhtar, for his part, got attention. "
                   "Jaish-e-Mohammed, a militant group based in Pakistan, claimed responsibility. "
                   "The African Union took over. France will fight until Mali controls its territory.")
    assert {"United States", "Belmokhtar", "Jaish-e-Mohammed", "African Union", "Mali"} <= set(names)


def test_a_relative_clause_or_a_partner_saying_what_the_name_did():
    # written by the lead after this round, on an article (Essequibo, 2023) the rules were not built on
    names = _names("Guyana appealed to the International Court of Justice, which on December 1 ordered Venezuela "
                   "to refrain. ExxonMobil and its partners found oil. Troops sat in Kashmir, which has been "
                   "divided, and near Essequibo, which lies east.")
    assert {"International Court of Justice", "ExxonMobil", "Guyana"} <= set(names)
    assert "Kashmir" not in names and "Essequibo" not in names


def test_those_asked_to_act_are_actors():
    names = _names("Kyiv has asked Germany and France to press Moscow. Egypt asked the UN Security Council to step in.")
    assert {"Germany", "France", "UN Security Council"} <= set(names)


def test_a_group_named_in_an_appositive_is_an_actor_and_keeps_its_short_form():
    text = ("The attackers belonged to the Signed-in-Blood Battalion, a group that Mokhtar Belmokhtar set up. "
            "Jaish-e-Mohammed claimed the attack. If Jaish strikes again, India will respond.")
    names = _names(text)
    assert names["Signed-in-Blood Battalion"].kind == "armed_group"
    assert "Mokhtar Belmokhtar" in names
    assert names["Jaish-e-Mohammed"].aliases == ["Jaish-e-Mohammed", "Jaish"]


def test_a_seat_of_government_stands_for_its_state():
    names = _names("The Kremlin warned Kyiv. The White House said nothing.")
    assert "Kremlin" in names["Russia"].aliases and "White House" in names["United States"].aliases


def test_an_institution_named_by_a_demonym():
    names = _names("Modi cannot look weak; the Pakistani army cannot let an Indian strike go unanswered.")
    assert names["the Pakistani army"].kind == "institution"
    assert "the Indian government" not in _names("the Indian government withdrew the status. India waited.")


def test_hyphenated_given_names_and_possessive_compounds():
    names = _names("President Tsai Ing-wen said the island would stay calm. "
                   "The People’s Liberation Army drew a noose around Taiwan. The Trump-era deal died.")
    assert "Tsai Ing-wen" in names and "People" not in names and not any("Trump-era" in n for n in names)


# --- clauses and claims --------------------------------------------------------------------------

def _clauses(text):
    return [c.text for s in sentences(text) for c in clauses(s)]


def test_clause_splits():
    assert _clauses("Ukraine cannot win a naval contest in the Sea of Azov: its navy lost most of its ships.") == \
        ["Ukraine cannot win a naval contest in the Sea of Azov", "its navy lost most of its ships."]
    assert _clauses("Pakistan’s army has made its red line plain: any Indian strike would be met with force.") == \
        ["Pakistan’s army has made its red line plain: any Indian strike would be met with force."]
    assert len(_clauses("An accident in the air could escalate quickly, because neither side has a hotline.")) == 2
    assert len(_clauses("Russia will keep inspecting ships and may extend its checks to foreign vessels, "
                        "which would choke Ukraine's eastern ports.")) == 3
    assert len(_clauses("Imran Khan then offered talks and announced that the pilot would be released.")) == 2
    assert len(_clauses('Modi promised that they would pay "a heavy price," and the government withdrew the status.')) == 2
    assert len(_clauses("A blockade is a more plausible option, since China could impose one in stages.")) == 2
    assert len(_clauses("Egypt and Sudan want a deal and Ethiopia wants time.")) == 1


def test_a_capitals_dateline_is_a_heading():
    segs = sentences("TAIPEI — For four days the army drew a noose around Taiwan.\nNATO — the alliance said so.")
    assert (segs[0].text, segs[0].heading) == ("TAIPEI", True)
    assert segs[1].text.startswith("For four days") and not segs[2].heading


@pytest.mark.parametrize("clause, kind", [
    ("Beijing had warned that a trip by the Speaker would cross a line", "red_line"),
    ("Indian jets crossed the Line of Control", "event"),
    ("Its interior minister said the state would not bargain with terrorists", "red_line"),
    ("it has said it will not renounce the use of force to achieve it", "threat"),
    ('Narendra Modi promised that the attackers would pay "a heavy price', "threat"),
    ("Beijing’s goal is unification", "aim"),
    ("The Kremlin's aim is to turn the sea into its own waters", "aim"),
    ("France, meanwhile, has no intention of pulling back", "aim"),
    ("Paris says the operation will go on until Mali controls its whole territory", "aim"),
    ("Russian ships seized three vessels as they tried to pass through the strait", "event"),
    ("the Eastern Theater Command said it would patrol around Taiwan regularly", "event"),
    ("An accident in the air could escalate quickly", "modal_assessment"),
    ("an invasion in the next few years remains unlikely", "modal_assessment"),
    ("the Pakistani army cannot let an Indian strike go unanswered", "estimate"),
    ("it could not ignore the violation of its airspace", "estimate"),
    ("Kyiv calls the attack an act of aggression", "event"),
    ("India has now set a precedent of striking across the border", "event"),
    ("Ethiopia offers guidelines it could revise as its needs grow", "option"),
    ("they, unlike the generals, can leave", "option"),
    ("it came out convinced that any concession invites the next attack", "estimate"),
    ("NATO called on Russia to release the ships and crews without delay", "event"),
    ("traffic to both ports has fallen by roughly a third", "estimate"),
    ("Tokyo is now expected to raise its defence spending", "estimate"),
    ("the strait is 130 kilometres wide", "estimate"),
])
def test_claim_types_of_the_new_rules(clause, kind):
    assert classify(clause)[0] == kind


def test_could_is_a_hedge_after_a_noun_and_might_the_noun_is_not():
    assert [h[2].term for h in find_hedges("An accident in the air could escalate")] == ["general area of possibility"]
    assert find_hedges("its air might is unmatched") == []


def test_plain_statements_are_kept_and_talk_about_the_argument_is_not():
    text = ("The exercises looked less like punishment than practice. A run of dry years is the main risk. "
            "The question now is whether the line still exists. That is the real change. "
            "This brief looks at what each side wants. Here is what each country wants.")
    anchors = [c.anchor_text for c in extract(text).claims]
    assert anchors == ["The exercises looked less like punishment than practice", "A run of dry years is the main risk"]


def test_kinds_of_persons_and_acronyms():
    names = _names("Vladimir Putin warned Kyiv. Its pilot, Wing Commander Abhinandan Varthaman, was captured. "
                   "The EU condemned the seizure, and the FSB opened a case.")
    assert names["Vladimir Putin"].kind == "leader"  # a named person who acts
    assert names["Abhinandan Varthaman"].kind == "other"  # a serving officer things happen to
    assert names["EU"].kind == "institution" and names["FSB"].kind == "institution"


def test_a_quoted_warning_of_harm_is_a_threat():
    assert classify("Xi Jinping said that “those who play with fire will perish by it.”")[0] == "threat"


# --- rules from the round on longer, unseen articles (vilnius, redsea) ------------------------------

def test_accented_capitals_and_date_words_before_names():
    names = _names("Ingrida Šimonytė’s coalition came to power in 2020. On 18 December Lloyd Austin announced a "
                   "coalition. Today Abdul-Malik al-Houthi decides how much trade passes.")
    assert {"Ingrida Šimonytė", "Lloyd Austin", "Abdul-Malik al-Houthi"} <= set(names)
    assert not any(n.startswith(("December", "Today")) for n in names)


@pytest.mark.parametrize("text, absent", [
    ("US Central Command has struck again. The Eastern Theater Command fired missiles into the sea.",
     {"Central Command", "Eastern Theater Command"}),  # a state's military command
    ("Valdoria announced Operation Blue Shield on Monday. Ostria has not joined Blue Shield, and Ostria said so.",
     {"Operation Blue Shield", "Blue Shield"}),  # an operation, and its short form
    ("A missile disabled the Sea Star, a British-owned bulk carrier that sank two weeks later.", {"Sea Star"}),
    ("On 6 March a strike on the True Confidence killed three of its crew.", {"True Confidence"}),
    ("Azerbaijani troops have taken the town of Shusha, which overlooks the road.", {"Shusha"}),
    ("Azerbaijan has used Turkish Bayraktar drones to great effect.", {"Bayraktar"}),
    ("For Egypt the Nile is almost everything. Egypt says the Nile is its lifeline.", {"Nile"}),
    ("The war in Gaza goes on. Aid is stuck outside Gaza. Hunger spread across Gaza while Gaza starves.", {"Gaza"}),
    ("In December its military spokesman, Yahya Saree, said any ship would be a target.", {"Yahya Saree"}),
    ("Few could have named the leader of Yemen's Houthi movement. The war in Yemen goes on. Troops went into Yemen.",
     {"Yemen"}),  # a country's possessive before a named group locates it; it shows no agency
    ("Exports to Central and Eastern Europe fell, and Latin America bought more.",
     {"Central and Eastern Europe", "Eastern Europe", "Latin America"}),
])
def test_things_places_forces_and_voices_are_no_actors(text, absent):
    assert not absent & set(_names(text))


def test_a_states_departments_are_the_state_and_an_apposed_company_is_an_actor():
    names = _names("On 7 June the Justice Department announced it had recovered the ransom. The Treasury could act. "
                   "The Transportation Security Administration now requires reports. Three weeks later a gang hit "
                   "JBS, the world’s largest meat processor, which paid $11 million. Sanctions hit its state oil "
                   "company, PDVSA, which lost buyers.")
    assert not {"Justice Department", "Treasury", "Transportation Security Administration"} & set(names)
    assert {"JBS", "PDVSA"} <= set(names)


def test_an_acronym_and_the_name_it_abbreviates_are_one_actor():
    names = _names("The European Union banned the airline. Later the EU imposed sanctions, and the EU said so.")
    assert "EU" not in names and set(names["European Union"].aliases) == {"European Union", "EU"}


def test_an_office_appositive_lets_the_verb_count():
    assert _names("Valdis Dombrovskis, the trade commissioner, called the measures discriminatory.")[
        "Valdis Dombrovskis"].kind == "leader"


def test_a_two_sentence_title_case_headline_and_a_hyphen_dateline_are_headings():
    segs = sentences("The Rebels Have Closed a Sea Lane. Can Anyone Reopen It?\n\n"
                     "SANAA - Five months ago few shipping executives knew the name of the rebels' leader.")
    assert [s.heading for s in segs] == [True, True, True, False]
    assert segs[2].text == "SANAA"


def test_clause_splits_of_the_round():
    def texts(sentence):
        return [c.text for c in clauses(sentences(sentence)[0])]
    assert texts("It could rename the office, or it could wait for the court to rule on the case.")[-1] \
        == "or it could wait for the court to rule on the case."
    assert len(texts("In October the rebels fired missiles towards the port, most of which were shot down by "
                     "air defences.")) == 2
    assert texts('He said the movement "does not seek a war with anyone" but will not stand by while the city '
                 'starves.')[-1].startswith("but will not stand by")
    assert texts("In February the union launched its own naval mission, Aspides, whose ships may only defend "
                 "themselves.")[-1].startswith("whose ships")
    assert len(texts("Exports were worth little, so the blockade on its own would have done little damage.")) == 2


@pytest.mark.parametrize("clause, kind", [
    ("its foreign ministry said that the government “must bear all the ensuing consequences”", "threat"),
    ("They declared American and British ships legitimate targets", "threat"),
    ("officials have said that on Taiwan there is “no room for compromise”", "red_line"),
    ('the president said in March that "no one can take a drop of water from Egypt"', "red_line"),
    ("will not stand by while the city starves", "red_line"),
    ("The point is to deter larger countries", "aim"),
    ("Lithuania’s government says it wants closer economic ties with Taiwan", "aim"),
    ("The United States first tried to defend the lane without hitting the coast", "event"),
    ("The chamber warned that foreign investors might close their factories if the dispute dragged on", "conditional"),
    ("warned that doing so would bring instability that no one could imagine", "threat"),
    ("Ostria warned that it would cut gas supplies", "threat"),
    ("Ostria might reopen the pass if the talks fail", "conditional"),
    ("Without one, the dispute is likely to run for years", "modal_assessment"),
    ("they would probably pause them to claim a victory", "modal_assessment"),
    ("the panel that would hear an appeal has not sat since 2019", "estimate"),
    ("which would end the crisis", "conditional"),
    ("Gitanas Nausėda, the president, has been less sure", "estimate"),
    ("The United States signed an agreement for up to $600 million in export credits", "event"),
    ("Since November the rebels have fired more than a hundred drones at merchant ships", "event"),
    ("traffic to both ports has fallen by roughly a third", "estimate"),
    ("US officials estimate that the strikes have destroyed about a third of the arsenal", "estimate"),
    ("Lithuania’s options are narrow", "estimate"),
    # no option; a past finding is an event, as in balakot.gold.yaml
    ("the rebels have shown that a group with cheap drones can close a sea lane", "event"),
    ("whose ships may only defend themselves and the vessels they escort", "estimate"),
    ("the lesson will depend less on Vilnius than on Brussels", "conditional"),
    ("China, whose exporters depend on the route, has called for an end to attacks on ships", "event"),
    ("A country that crosses that line without paying for it would be an invitation to others", "conditional"),
    ("If a soldier is killed or troops cross the line, Ostria will demand action from its allies", "conditional"),
    # seen on the held-out ransomware article after its single scoring
    ("that Washington will take “any necessary action” to defend its people", "threat"),
    ("demanded $70 million for a universal key", "aim"),
    ("the Treasury could sanction the exchanges that turn ransoms into cash", "option"),
    ("his criticism gives Beijing a reason to wait for the government to crack", "conditional"),
    ("it has given the rebels a cause that unites their own territory", "event"),
    ("while unexplained customs delays are much harder to prove", "estimate"),
    ("its members need unanimity", "estimate"),  # "need" is no past form
    ("Their capability is real but limited", "estimate"),
])
def test_claim_types_of_the_round_on_unseen_articles(clause, kind):
    assert classify(clause)[0] == kind
