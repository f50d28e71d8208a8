"""Finding claims — assertions a modeller would turn into scenario elements — and typing them.

Model-free rules over clauses (:func:`redline.draft.text.clauses`). The type follows the gold
annotation guide's tie-breaks (``shared/seed/ANNOTATION.md``): red lines, threats, explicit
if-clauses, aims and dated events first; then, of hedges, "would"/causal links and options, the
one that comes first in the clause (the main assertion usually leads an English clause); then
quantities are estimates, past-tense reports are events, the rest estimates. Asides between
dashes or brackets and trailing comparisons ("as with...", "according to...") are left out
of the cue search, so a cue in an aside does not type the clause.

A clause becomes a claim when it carries a cue or names an actor; headings, datelines and short
discourse sentences without either are skipped. A short declaration of aim ("Our aim is clear.")
passes its type to the next sentence that states the aim's content.

Every cue list here is general English (modal verbs, verbs of threatening, causal verbs, nouns
of military and coercive action), not words of any one article.
"""
from __future__ import annotations

import bisect
import re

from redline.draft.gazetteer import countries
from redline.draft.model import DraftActor, DraftClaim, slug
from redline.draft.text import Segment, clauses, sentences, words
from redline.draft.wep import find_hedges, probability_range

__all__ = ["find_claims", "classify"]

_RED_LINE = re.compile(
    r"\bred[- ]lines?\b|\bcannot be (?:touched|tolerated|accepted|allowed|crossed)\b|\boff[- ]limits\b|"
    r"\b(?:will|would|shall) (?:not|never) (?:tolerate|accept|allow|permit|stand for)\b|\bunacceptable\b|"
    r"\bnon-negotiable\b|\bnot (?:up for )?negotiable\b|\bno room for (?:compromise|concessions?|negotiation)\b|"
    r"\b(?:will|would|shall) (?:not|never) stand (?:idly )?by\b|"
    r"[“\"‘]\s*(?:no one|nobody|no country|no power|no force|no state)\s+(?:can|could|will|may|shall)\b|\bline in the sand\b|\bnever allow\b|\bcross(?:es|ed|ing)? (?:a|the|that|this|any) (?-i:line)\b|"
    r"\b(?:will|would|shall) (?:not|never) (?:bargain|negotiate|compromise|yield|back down|give in)\b|"
    r"\bany (?:harm|attack|strike|move|incursion|aggression|violation|crossing)\s+(?:to|on|against|of|by)\b[^.;]{0,80}?"
    r"\b(?:will|would|shall)\b", re.I)
_THREAT = re.compile(
    r"\bthreat(?:en|ens|ened|ening)\b|\bhint(?:s|ed|ing)? at\b|\bvow(?:s|ed|ing)? (?:to|revenge|retaliation)\b|"
    r"\bwarn(?:s|ed|ing)? (?:that|of|it|they|he|she|we|them|him|her)\b|\bultimatum\b|"
    r"\bpromis(?:ed|es|ing) (?:revenge|retaliation|to (?:retaliate|respond|punish|avenge)|an? (?:\w+ )?response)\b|"
    r"\b(?:not|never) go unanswered\b|\bpay [“\"‘']?(?:a|the) (?:heavy |high |steep )?price\b|"
    r"\bnot (?:renounce|rule out|exclude|give up) (?:the (?:use|option) of )?(?:force|military (?:action|force|options?))\b|"
    r"\b(?:will|would|shall) (?:perish|regret it|be crushed|be destroyed|be punished|face (?:severe |grave )?"
    r"consequences|bear (?:the )?responsibility)\b|\bsevere consequences\b|\bbear (?:all |the |full )*(?:\w+ )?consequences\b|\blegitimate targets?\b|\btake [“\"‘']?(?:any|all) (?:necessary|required|appropriate) (?:action|measures|steps)\b|\b(?:harsh|crushing) (?:response|retaliation)\b",
    re.I)
_AIM = re.compile(
    r"(?:\b(?:our|their|his|her|its|the)\s+(?:[\w’'-]+\s+)?|\b[A-Z][\w-]*[’']s\s+(?:\w+\s+)?)(?:aim|goal|objective|"
    r"mission|intention|priority|purpose|ambition)s?\s+(?:is|was|are|were|remains?)\b|"
    r"\b(?:has|have|had) no intention of\b|\b(?:will|would) (?:go on|continue|not stop|press on) [“\"‘']?until\b|"
    r"\bdemand(?:s|ed|ing)? (?:that\b|\$|€|£|(?:a|an|the)\s+(?:ransom|payment|withdrawal|apology|release)\b)|\b(?:wants?|wanted|wanting|seeks?|sought|seeking|intends?|"
    r"intended|aims?|aimed|aiming|hopes?|hoped|hoping|tries|trying|strives?|determined|resolved|vowed)\s+to\b|"
    r"\b(?:wants?|wanted|seeks?|sought)\s+(?:a|an|the|no|its|their|his|her|our|more|less|closer|better|\w+er)\b|"
    r"\bthe (?:whole )?point (?:is|was) to\b|"
    r"\btime to\b|\bis bent on\b|\binsists? on\b", re.I)
_STRONG_EVENT = re.compile(
    r"\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November|December)\b|"
    r"\b(?:January|February|March|April|June|July|August|September|October|November|December) \d{1,2}\b|"
    r"\bthe (?:[A-Z][\w-]+ )?(?:killing|assassination|death|murder|attack|strike|invasion|bombing|seizure|downing|shooting|capture|"
    r"arrest|execution|annexation|occupation|launch|test) of\b|"
    r"\b(?:has|have|had) (?:\w+ )?(?:said|announced|declared|stated|voted|signed|launched|killed|struck|attacked|"
    r"seized|kicked off|begun|started|ordered|approved|passed|rejected|suspended|withdrawn|expelled|imposed|"
    r"recalled|closed)\b|"
    r"\b(?:on|last|this|late|early) (?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|"
    r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|\b(?:yesterday|last week|last month|"
    r"last year)\b|\bvoted\b|\bannounced\b", re.I)
_IF_CLAUSE = re.compile(r"^(?:and |but |so |yet )?(?:if|unless|should|in case|provided that|as long as|once)\b|"
                        r"^(?:and |but )?(?:when|whenever)\b(?![^,]*\b\w+ed\b)", re.I)
_CONDITIONAL = re.compile(
    r"\bwould\b|\bwouldn’t\b|\bwouldn't\b|\bby (?!the\b|a\b|an\b)\w+ing\b|\b(?:leads?|led|leading) to\b|"
    r"\b(?:drives?|driving|drove|fuels?|fuell?ing|fuell?ed|foments?|fomenting|fomented|provokes?|provoking|"
    r"provoked|triggers?|triggering|triggered|endangers?|endangering|endangered|undermines?|undermining|"
    r"invites?|inviting|impacts?|results? in|(?<!\ba )(?<!\bthe )(?<!\bits )causes?|causing|hinges? on|gives? [^,.;]{1,40}?\b(?:reason|incentive|excuse|pretext) to|depends? (?:(?:less|more|largely|partly|mainly|heavily|entirely|above all)\s+)?on|"
    r"means?|threatens to)\b|\bforc(?:es?|ed|ing)\s+(?:\w+\s+){0,3}?to\b|\bin turn\b|\bso that\b|^\s*without\b|"
    r"\bmak(?:es?|ing)\s+[^.,;]{1,40}?\b(?:more|less)\b|\b(?:narrows|narrowing|widens|widening|raises|"
    r"lowers|increases|reduces|weakens|strengthens|erodes|deepens)\b", re.I)
_OPTION = re.compile(
    r"\b(?:could|can|may|might)\s+(?:also\s+|still\s+|yet\s+)?(?:hit|strike|attack|launch|target|use|close|block|"
    r"seize|mine|cut|impose|expel|withdraw|escalate|retaliate|respond|send|deploy|invade|fire|sabotage|disrupt|"
    r"sanction|freeze|ban|embargo|indict|hack|"
    r"sponsor|arm|enrich|build|test|walk away|pull out|shut|halt|resume|turn to|resort to|choose|opt)\b|"
    r"\b(?:options?|last card|trump card|cards? to play|levers?|a plan (?:for|to)|course of action|"
    r"could choose|is feasible|it is (?:also )?feasible|in reserve|fallback)\b", re.I)
_ACTION_SUBJECT = re.compile(
    r"^(?:and |but |yet )?(?:an?|another|any|further)\s+(?:\w+\s+){0,2}?(?:attacks?|cyberattacks?|cyber-attacks?|"
    r"strikes?|airstrikes?|blockades?|invasions?|incursions?|raids?|flare-ups?|escalations?|retaliation|"
    r"offensives?|assaults?|sanctions|embargo|boycott|walkout|withdrawal|campaign|bombing|mining|"
    r"closure|ceasefire|truce|deal|negotiations?|talks)\b", re.I)
_QUANTITY = re.compile(
    r"\b(?:about|around|roughly|some|nearly|almost|at least|at most|up to|more than|less than|fewer than|over|"
    r"under|only)\s+(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|a few|several|dozens?|hundreds?|"
    r"thousands?|\d[\d,.]*)\s+(?:\w+\s+)?(?:years?|months?|weeks?|days?|hours?|percent|per cent|%|troops|soldiers|"
    r"fighters|people|kilograms?|kg|tons?|tonnes|missiles|rockets|drones|dollars|billion|million|centrifuges|"
    r"warheads|ships|aircraft|jets|bases|sites|kilometres|kilometers|miles|metres|meters|megawatts|barrels)\b|"
    r"\b\d[\d,.]*\s*(?:%|percent|per cent|kg|km|troops|soldiers|fighters|missiles|rockets|billion|million|"
    r"centrifuges|warheads|kilometres|kilometers|miles|metres|meters|megawatts|MW|barrels)\b|"
    r"\b(?:about|around|roughly|nearly|almost|over|under|only|some)?\s*(?:a|one|two|three) (?:half|third|quarter|"
    r"fifth|tenth)s? of\b|\b(?:about|around|roughly|nearly|almost|over|under|only|some) (?:half|a third|a quarter|"
    r"two-thirds|a fifth) of\b|\bby (?:about |around |roughly |nearly |almost |some )?(?:half|a third|a quarter|"
    r"two-thirds|a fifth|a tenth)\b|"
    r"\b(?:two|three|four|five|ten|\d+) to one\b", re.I)
_BELIEF = re.compile(r"\b(?:believes?|thinks?|expects?|assumes?|fears?|calculates?|judges?|reckons?|"
                     r"estimates? that|estimated that|"
                     r"is convinced|are convinced|convinced that|(?:argues?|argued|insists?|insisted|maintains?|contends?) that)\b",
                     re.I)
# An offer or proposal puts a course of action on the table: an option, even in the past tense.
_PROPOSAL = re.compile(r"\b(?:has|have|had)?\s*(?:proposed|offered|suggested|floated|put forward|tabled|proposes|offers|"
                       r"suggests|floats|puts forward)\b", re.I)
_ACTOR_CAN = re.compile(r"^(?:(?:since|because|as|so)\s+)?(?:(?:[Tt]he\s+)?[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*|It|[Tt]hey|[Hh]e|[Ss]he|[Ww]e)(?:\s*,[^,]{1,40},)?\s+"
                        r"(?:could|can)\s+(?!not\b)(?:also\s+|still\s+|yet\s+)?[a-z]+")
# Past tense: regular "-ed" forms and the common irregular past forms of English.
# A bare "-ed" word is an adjective after a determiner, "and"/"or" or an "-ly" adverb ("the Iranian-backed",
# "tactics and affiliated groups"), else a past-tense verb ("Iraq pressed", "It revoked").
_PAST = re.compile(r"\b(?:was|were|had|did)\b|\b(?:has|have) (?:\w+ )?(?!been\b)\w+(?:ed|en)\b|"
                   r"\b(?:has|have) (?:\w+ )?(?:shown|known|grown|thrown|drawn|flown|done|gone|seen|set|put|cut|hit|"
                   r"led|held|kept|sent|built|won|lost|brought|fought|found|said|told|paid|left|met|struck|begun|"
                   r"made|become|come|run|spent|sought|taught|caught|bought|shut|spread)\b|"
                   r"(?<!\bthe )(?<!\ba )(?<!\ban )(?<!\band )(?<!\bor )(?<!\bits )(?<!\bhis )(?<!\bher )(?<!\bof )"
                   r"(?<!\bour )(?<!\bwith )(?<!\btheir )(?<!\bwhile )(?<!\bwhereas )(?<!\balthough )(?<!\bbecause )(?<!\bbut )(?<!ly )(?<!\bis )(?<!\bare )(?<!\bnow )(?<!\bbe )(?<!\bthat )(?<!\bwhich )(?<!\bwho )(?<![\w-])(?!(?:need|needed|indeed|proceed|succeed|exceed|speed|feed|seed|breed|bleed|greed|heed|deed|red|bed|shed|"
                   r"hundred|sacred|naked|wicked|hatred)\b)\w+ed\b|\b(?:struck|shot|fought|"
                   r"took|gave|made|said|told|went|came|began|sent|led|held|won|lost|broke|chose|drew|fell|flew|knew|"
                   r"left|met|paid|ran|rose|saw|sold|spoke|stood|swore|threw|wrote|brought|bought|caught|thought|"
                   r"sought|built|spent|kept|felt|dealt|meant|became|found|got|heard|hid|laid|lay|rode|sank|shook|"
                   r"stole|strove|swept|swung|took|tore|understood|withdrew|overran|overthrew)\b", re.I)
_ASIDE = re.compile(r"\s*\([^)]*\)|,\s+(?:whose|which|who)\s[^,;]{1,80},(?=\s)|\s+[–—][^–—]{1,80}(?:[–—]|$)|\s+(?:claiming|saying|arguing|insisting|asserting)\b[^,;]*|,\s+(?:as with|as in|like|according to|in (?:very )?much "
                    r"the same way|in the same way|just as)\b[^,;]*(?=[,;.]|$)", re.I)
_LEAD_CONJ = re.compile(r"^(?:(?:and|but|yet|so|or),?\s+|(?:still|meanwhile|however),\s+)", re.I)
_AIM_DECLARATION = re.compile(r"^[“\"‘']?(?:our|their|his|her|its|the)\s+(?:\w+\s+)?(?:aim|goal|objective|mission|"
                              r"purpose)s?\s+(?:is|are|was)\s+(?:clear|simple|this|plain)\W*$", re.I)
_CAUSAL_AFTER_HEDGE = re.compile(r"^\s+(?:\w+ly\s+)?(?:force|drive|lead to|trigger|provoke|push|prompt|"
                                 r"compel|endanger|undermine|invite)\b", re.I)

# A warning whose content has a generic third party as its subject, lower-case and not a pronoun, and a hedge:
# "warned that foreign investors might close", "warned that any spark, however small, could lead to disaster".
_WARNED_OF_CONSEQUENCE = re.compile(
    r"\bwarn(?:s|ed|ing)? that\s+[“\"‘']?(?!(?:it|they|he|she|we|you|anyone|whoever|those)\b|[a-z]+ing\b)"
    r"(?:[a-z][\w’'-]*[\s,]+){1,6}?"
    r"(?:might|may|could|would)\b(?![^;]*\b(?:will|would|shall) (?:bear|pay|face|regret|perish)\b)")
# A past action verb (not a copula, an auxiliary or a verb of holding) before a quantity.
# A change of level ("has fallen by a third") is a state's new value (an estimate), and a passive ("the deal was
# signed in 2015") is background: neither counts.
_PAST_ACTION = re.compile(r"(?<!\bwas )(?<!\bwere )(?<!\bbeen )(?<!\bbe )(?<!\bis )(?<!\bare )"
                          r"\b(?:(?:has|have)\s+(?:(?!been\b)\w+\s+)?)?(?:signed|fired|launched|sent|deployed|struck|killed|"
                          r"seized|imposed|bought|sold|paid|spent|built|hit|shot|destroyed|captured|arrested|expelled|"
                          r"pledged|offered|moved)\b")
# Reported speech: a "would" after a verb of saying is the reported statement's, not a hypothetical.
_REPORTED = re.compile(r"\b(?:said|says|announced|announces|stated|declared|told \w+|added)\s+(?:that\s+)?[^,;]{0,60}$")
# A clause whose subject is an event or a thing, not an actor that could choose ("An accident ... could").
_EVENT_SUBJECT = re.compile(r"^(?:an?|the|any|another|each|every)\s+(?:[\w-]+\s+){0,4}?(?:accident|incident|clash|"
                            r"crisis|war|conflict|collision|mistake|miscalculation|spiral|escalation|drought|flood|"
                            r"crash|collapse|failure)\b", re.I)
# A present-tense verb of saying reports a statement: an event ("Kyiv calls the attack an act of aggression").
_PRESENT_SPEECH = re.compile(r"\b(?:says|calls|denies|accuses|blames|describes|announces|condemns|rejects|"
                             r"dismisses)\b")

# A sentence about the text itself ("This brief looks at ...", "Here is what each country wants"): no claim.
_META = re.compile(r"^(?:here (?:is|are)\b|(?:this|the following) (?:brief|article|analysis|paper|report|piece|note|"
                   r"essay|explainer|column|section)\b|in this (?:brief|article|analysis|paper|report|piece|note)\b)", re.I)

_PRONOUN_SUBJECT = re.compile(r"^(?:it|its|they|their|he|his|she|her)\s+(?!is\b|are\b|means\b)\w+", re.I)

_TYPE_LABEL = {"aim": "Aim", "threat": "Threat", "option": "Option", "conditional": "Conditional",
               "estimate": "Estimate", "modal_assessment": "Assessment", "event": "Event", "red_line": "Red line"}


def _core(text: str) -> str:
    """The clause without asides; same length, asides blanked, so positions still line up."""
    out = text
    for m in _ASIDE.finditer(text):
        out = out[:m.start()] + " " * (m.end() - m.start()) + out[m.end():]
    return out


def classify(text: str) -> tuple[str, str | None, list[str]]:
    """Type a clause: ``(type, modality or None, cues)`` (see the module docstring for the order)."""
    core = _core(text)
    lead = core.strip()
    for name, rx in (("red_line", _RED_LINE), ("threat", _THREAT)):
        m = rx.search(core)
        if m and name == "red_line" and re.match(r"(?:and |but )?(?:if|unless|should)\b[^,;]*$", core[:m.start()].strip(), re.I):
            m = None  # "If ... troops cross the line, Warsaw will demand": the cue is the condition, no declared limit
        if m and name == "red_line" and m.group().lower().startswith("cross") \
                and re.search(r"\w\s+(?:that|who|which)\s+$", core[:m.start()]):
            m = None  # "A country that crosses that line ... would be": a relative clause's hypothetical
        if m and name == "threat" and _WARNED_OF_CONSEQUENCE.search(core) and not rx.search(core, m.end()):
            # "The chamber warned that foreign investors might close their factories": the warner foretells
            # what others may do; no harm of its own is threatened.
            m = None
        if m:
            return name, None, [m.group()]
    if _IF_CLAUSE.search(_LEAD_CONJ.sub("", lead)):
        return "conditional", None, ["if-clause"]
    m = _AIM.search(core)
    if m and not re.search(r"\bwhat\b[^,.;]{0,40}$", core[:m.start()]) \
            and not re.search(r"\b(?:if|unless)\b", core[:m.start()], re.I) \
            and not re.search(r"\b(?:as|when|while|after|before|until)\s+(?:the\s+)?(?:\w+\s+){0,2}$", core[:m.start()]):
        return "aim", None, [m.group()]
    m = _STRONG_EVENT.search(core)
    if m:
        return "event", None, [m.group()]
    m = _QUANTITY.search(core)
    if m:
        act = _PAST_ACTION.search(core[:m.start()])
        if act and not _BELIEF.search(core[:act.start()]):
            # "The United States signed an agreement for up to $600 million", "have fired more than a hundred
            # drones": a dated action with its size is an event; a copula states a quantity ("were worth about").
            return "event", None, [act.group()]
        return "estimate", None, [m.group()]
    m = _ACTOR_CAN.match(_LEAD_CONJ.sub("", lead))
    if m:
        return "option", None, [m.group()]
    m = _BELIEF.search(core)
    if m and not find_hedges(core[:m.start()]):
        return "estimate", None, [m.group()]
    m = _PROPOSAL.search(core)
    if m:
        return "option", None, [m.group().strip()]
    found: list[tuple[int, str, str | None, str]] = []
    hedges = [h for h in find_hedges(core)
              if not re.search(r"\b(?:who|whom|which|what|where)\s+(?:\w+\s+)?$", core[:h[0]], re.I)
              and not re.match(r"may\s+only\b", core[h[0]:], re.I)]  # "may only defend": a permission
    if hedges:
        s, e, _h = hedges[0]
        written = core[s:e]
        if re.search(r"(?<!whether )\b(?:if|unless)\b", core[e:]) and not re.search(
                r"\b(?:unclear|uncertain|know|ask|asks|asked|see|wonder|whether)\s+(?:\w+\s+)?(?:if|unless)\b", core, re.I):
            # The guide's tie-break: an explicit if-clause makes a hedged claim conditional ("Minsk could push
            # them again if the sanctions bite").
            found.append((s, "conditional", None, written + " ... if"))
        elif _CAUSAL_AFTER_HEDGE.match(core[e:]):
            found.append((s, "conditional", None, written + " + causal verb"))
        else:
            found.append((s, "modal_assessment", written, written))
    for m in _CONDITIONAL.finditer(core):
        cue = m.group().lower()
        if cue.startswith("would") and _REPORTED.search(core[:m.start()]):
            break
        if cue.startswith("would") and re.search(r"\w\s+(?:that|which|who)\s+$", _LEAD_CONJ.sub("", core[:m.start()].lstrip())):
            continue  # "the panel that would hear an appeal": a relative clause's would, not the claim's
        if hedges and (cue.strip() == "without" or (cue.startswith("would") and re.match(
                r"\s+(?:probably|likely|almost certainly|very likely|possibly|perhaps)\b", core[m.end():]))):
            continue  # the hedge governs: "Without one, the dispute is likely to", "would probably pause"
        found.append((m.start(), "conditional", None, m.group()))
        break
    m = _OPTION.search(core)
    if m and re.match(r"\s+(?:are|is|were|was|remain|remains|look|looks|seem|seems)\s+(?:\w+ly\s+)?"
                      r"(?!to\b|an?\b|the\b|\w+ing\b)[a-z]+\W*$", core[m.end():]):
        m = None  # "Lithuania's options are narrow": a state, not a move
    if m and re.search(r"\b(?:shown|showed|shows|proved|proven|demonstrated|learned|learnt|knows|know|knew)\s+that\b",
                       core[:m.start()]):
        m = None  # "have shown that a group with cheap drones can close ...": an ability stated, not a move
    if m and not (re.match(r"(?:could|can|may|might)\b", m.group(), re.I) and _EVENT_SUBJECT.match(_LEAD_CONJ.sub("", lead))):
        found.append((m.start(), "option", None, m.group()))
    if _ACTION_SUBJECT.search(_LEAD_CONJ.sub("", lead)) \
            and not any(t in ("conditional", "modal_assessment") for _, t, _, _ in found):
        found.append((-1, "option", None, "action as subject"))
    if found:
        found.sort(key=lambda f: f[0])
        _, kind, modality, cue = found[0]
        return kind, modality, [cue]
    m = re.search(r"\b(?:cannot|can't|can not|must)\b", core)
    if m:
        return "estimate", None, [m.group()]
    if _PAST.search(core):
        return "event", None, ["past tense"]
    m = _PRESENT_SPEECH.search(core)
    if m:
        return "event", None, [m.group()]
    return "estimate", None, ["present tense"]


# Discourse, not content: a clause about the argument itself ("The question now is whether ...", "That is the
# real change", "The rhetoric has been hot") or an anaphoric copula ("They are ...", "that is the point").
_DISCOURSE = re.compile(r"^(?:the\s+|this\s+|that\s+|its\s+)?(?:\w+\s+){0,2}?(?:lesson|question|point|rhetoric|reaction|"
                        r"problem|change|answer|message|irony|truth|reality|story|issue|debate|puzzle|paradox|upshot|"
                        r"picture|hard line)s?\b(?!\s+(?:is|was)\s+that\b)|"
                        r"^(?:that|this|it|they|these|those|there)\s+(?:\w+\s+)?(?:is|are|was|were|has been|have been)\b",
                        re.I)
_VERBISH = re.compile(r"\b(?:is|are|was|were|be|been|has|have|had|will|would|can|could|may|might|must|should|does|"
                      r"do|did)\b|\b[a-z]{2,}(?:ed|s)\b")


def _plain_statement(clause: str) -> bool:
    """A clause with no cue and no actor that still states something a modeller keeps: a finite
    statement about the world ("The exercises looked less like punishment than practice", "A run of dry
    years is the main risk") of five words or more, not about the argument itself (``_DISCOURSE``)."""
    lead = _LEAD_CONJ.sub("", clause.strip())
    return len(words(lead)) >= 5 and not _DISCOURSE.match(lead) and bool(_VERBISH.search(_core(lead)))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop a leading conjunction and trailing end punctuation from a span."""
    piece = text[start:end]
    m = _LEAD_CONJ.match(piece)
    if m and len(piece) - m.end() > 10:
        start += m.end()
    while end > start and text[end - 1] in ".!?,;:":
        end -= 1
    return start, end


def find_claims(text: str, actors: list[DraftActor], segs: list[Segment] | None = None) -> list[DraftClaim]:
    """Claims of an article, typed, each with offsets, the actors it names and its cue."""
    segs = sentences(text) if segs is None else segs
    mentions = sorted((s, e, a.id) for a in actors for s, e in a.mentions)
    mention_starts = [m[0] for m in mentions]
    claims: list[DraftClaim] = []
    taken: set[str] = set()
    inherit: str | None = None
    demonyms = {d for c in countries() for d in c.demonyms}
    for sent in segs:
        if sent.heading:
            continue
        if _AIM_DECLARATION.match(sent.text):
            inherit = "aim"
            continue
        if _META.match(sent.text):
            continue
        for clause in clauses(sent):
            if len(words(clause.text)) < 4:
                continue
            kind, modality, cues = classify(clause.text)
            if inherit and kind in ("event", "estimate", "conditional"):
                kind, modality, cues = inherit, None, ["aim declared before"]
            lo = bisect.bisect_left(mention_starts, clause.start)
            hi = bisect.bisect_left(mention_starts, clause.end)
            named = sorted({aid for s, e, aid in mentions[lo:hi] if e <= clause.end})
            weak = cues and cues[0] in ("past tense", "present tense")
            if weak and not named and not _PRONOUN_SUBJECT.match(_LEAD_CONJ.sub("", clause.text)) \
                    and not any(d in demonyms or (d.endswith("s") and d[:-1] in demonyms) for d in words(clause.text)) \
                    and not _plain_statement(clause.text):
                continue
            start, end = _trim(text, clause.start, clause.end)
            anchor = text[start:end]
            prob = None
            if modality is not None:
                hedge = next(h for s, e, h in find_hedges(anchor) if anchor[s:e] == modality)
                prob = probability_range(hedge, modality)
            summary = " ".join(anchor.split())
            if len(summary) > 160:
                summary = summary[:157].rsplit(" ", 1)[0] + "..."
            who = ", ".join(a.name for a in actors if a.id in named)
            claims.append(DraftClaim(
                id=slug(f"{kind} {' '.join(words(anchor)[:5])}", taken),
                start=start, end=end, anchor_text=anchor, type=kind,
                claim=f"{_TYPE_LABEL[kind]}{f' ({who})' if who else ''}: {summary}",
                modality=modality, probability=prob, actors=named, cues=cues,
                sentence=(sent.start, sent.end)))
        inherit = None
    return claims
