"""Finding the actors an article reasons about, with aliases and every mention (offsets).

Model-free rules over capitalised names, with country names, capitals, codes and demonyms from a
general gazetteer (:mod:`redline.draft.gazetteer`). No list of people, groups or places written
for any article:

1. *Names*: runs of capitalised words (with name particles such as "al-" and an editor's
   bracketed insertion, "Abu Mahdi [al-Muhandis]"); a leading office title ("President") is cut
   off; a word capitalised only at the start of sentences or in headings is no name.
2. *What a name is*: a country (name, short form, code or capital), a person (two or more name
   words, not after a determiner; a later lone surname is the same person), an office title used
   alone ("the Chancellor": the one person introduced with a head-of-state title, if exactly
   one), a public ("the US electorate"), or a named group or organisation (one word, or several
   after "the").
3. *Actor or place*: a person is an actor unless only cited as a source ("according to X",
   "X, an analyst"); a country, group or organisation is an actor when at least one mention shows
   agency: it acts (followed by a verb or auxiliary, or "who"), owns ("X's"), is acted on by name
   ("by X", "against X", "between X"), or is coordinated with an actor ("X and Y"). A name seen only
   after a place preposition ("in X", "leave X"), in a dateline, or as someone's possession ("his X
   feed") is a place or a thing, not an actor.
4. *Mentions*: every whole-word occurrence of an alias (not touching a letter, digit, underscore or
   hyphen), possessive outside the span, overlaps resolved by the longer span.
"""
from __future__ import annotations

import bisect
import calendar
import functools
import re
from dataclasses import dataclass, field

from redline.draft.gazetteer import country_index, demonym_index
from redline.draft.model import DraftActor, slug
from redline.draft.text import Segment, sentences

__all__ = ["find_actors", "mention_spans", "resolve_overlaps"]

_PARTICLE = r"(?:al|el|ad|ash|as|at|az|an|ar|bin|ibn|bint|abu|van|von|de|del|della|da|di|du|le|la|ben)"
# Capital letters of the Latin alphabets, ASCII and accented ("Šimonytė", "Łukasz", "Ørsted").
_UPPER = "A-Z" + "".join(c for c in map(chr, range(0xC0, 0x250)) if c.isupper())
_TOKEN = rf"(?:{_PARTICLE}-)?[{_UPPER}][\w]*(?:(?:[-’']|-[a-z]{{1,3}}-)[{_UPPER}][\w]*)*"
_BRACKET = rf"\s\[(?:{_TOKEN})(?:\s{_TOKEN})*\]"
# A later name word may end in a short lower-case hyphen part ("Tsai Ing-wen", "Kim Jong-un"), but not in a
# compounding word ("Trump-era", "Iran-backed").
_GIVEN = r"(?:-(?!(?:era|led|run|held|born|made|wide|like|type|free|based|backed|style)(?![\w-]))[a-z]{2,4})?"
_RUN = re.compile(rf"(?<![\w\-])(?:{_TOKEN})(?:(?:\s|\s(?:of|in|for)\s)(?:{_TOKEN}){_GIVEN}|{_BRACKET})*(?![\w\-])")

# Office titles (general English); a title in front of a name is not part of the name.
_TITLES = (
    "President", "Vice President", "Prime Minister", "Deputy Prime Minister", "Foreign Minister",
    "Defence Minister", "Defense Minister", "Minister", "Secretary of State", "Secretary of Defense",
    "Secretary-General", "Secretary General", "Secretary", "Chancellor", "King", "Queen", "Prince",
    "Crown Prince", "Emir", "Sultan", "Sheikh", "Ayatollah", "Supreme Leader", "Commander in Chief",
    "Commander-in-Chief", "Commander", "General", "Gen.", "Lt.", "Col.", "Maj.", "Admiral", "Adm.",
    "Marshal", "Field Marshal", "Premier", "Governor", "Senator", "Sen.", "Representative", "Rep.",
    "Speaker", "Chairman", "Chair", "Mr.", "Mrs.", "Ms.", "Dr.", "Mr", "Mrs", "Ms", "Dr", "Pope", "Cardinal",
    "Imam", "Mullah", "Chief", "Leader", "Director", "Ambassador", "Envoy", "Spokesman", "Spokeswoman",
    "Wing Commander", "Squadron Leader", "Group Captain", "Air Marshal", "Air Chief Marshal", "Vice Admiral",
    "Rear Admiral", "Major General", "Lieutenant General", "Brigadier General", "Brigadier", "Colonel", "Captain",
    "Capt.", "Lieutenant", "Sergeant", "Sgt.", "Corporal", "Interior Minister", "Home Minister", "Finance Minister",
    "Vice Premier", "Deputy Leader",
)
# Ranks of serving officers: a title, but not one that makes its bearer a leader.
_RANKS = ("Wing Commander", "Squadron Leader", "Group Captain", "Captain", "Capt.", "Lieutenant", "Lt.", "Sergeant",
          "Sgt.", "Corporal", "Private")
_HEAD_TITLES = {"President", "Prime Minister", "Chancellor", "King", "Queen", "Emir", "Sultan", "Supreme Leader",
                "Premier", "Commander in Chief", "Commander-in-Chief"}
_TITLE_RE = re.compile(r"^(?:(?:" + "|".join(re.escape(t) for t in sorted(_TITLES, key=len, reverse=True))
                       + r")\s+)+")
# Closed-class English words that start sentences capitalised; never names.
_FUNCTION = set("""a an the this that these those it its it's there here he she they we i you his her their our my
your as and but or nor yet so if when while because although though since after before once until unless
whether what which who whom whose where why how in on at by for from of to with without within into onto over
under across through between among against during about above below near beyond despite however moreover
meanwhile still also even only just then thus therefore indeed instead otherwise rather perhaps maybe
not no yes all any some many much more most few several each every both either neither one two three first
second last next new old such other another same own very too quite already always never often sometimes
slowly quickly estimates nobody everybody everyone someone somebody anyone anybody none nothing everything
something""".split())
_DETERMINERS = {"the", "a", "an", "his", "her", "its", "their", "our", "my", "your", "this", "that", "these",
                "those"}
_PLACE_PREP = {"in", "at", "from", "to", "into", "across", "near", "throughout", "within", "outside", "inside",
               "toward", "towards", "via", "leave", "leaving", "left", "visit", "visited", "visiting",
               "around", "enter", "entered", "over"}
_OBJECT_PREP = {"on", "of", "for", "about", "upon", "onto", "off", "under", "like", "than"}
_AGENT_PREP = {"by", "between", "against", "with", "versus", "vs"}
_AUX = set("""has have had is are was were will would may might could can must should shall did does do
said says say warned warns threatened threatens vowed vows announced announces declared declares signed
wants wanted seeks sought hinted insists insisted refused refuses agreed agrees denied denies claimed claims
launched struck attacked killed fired accused blamed responded retaliated rejected demanded demands chose
went remains remained appears appeared seems seemed continues continued cannot can't won't wouldn't isn't aren't
hasn't haven't doesn't didn't""".split())
# Common irregular past forms of English verbs ("The African Union took over", "the army fought").
_IRREGULAR_PAST = set("""took gave made said told went came began sent led held won lost broke chose drew fell flew knew
left met paid ran rose saw sold spoke stood swore threw wrote brought bought caught thought sought built spent kept felt
dealt meant became found got heard hid laid rode sank shook stole strove swept swung tore understood withdrew overran
overthrew struck shot fought set put cut hit let shut spread bore froze hung slid stuck sat slept""".split())
# Words that may stand between a subject and its verb ("Washington in particular worked", "all pressed").
_ADVERBIAL = (r"(?:all|both|each|alone|too|also|then|now|again|together|jointly|itself|themselves|first|later|still|"
              r"already|in particular|in turn|so far|for now|meanwhile|instead|soon|eventually|once|never|always|often|"
              r"quickly|promptly|duly|openly|quietly|repeatedly|reportedly|swiftly|immediately|initially|finally)")
# A parenthesis between a subject and its verb: a relative clause, an appositive naming a group ("Jaish-e-Mohammed,
# a militant group based in Pakistan, claimed"), or a discourse phrase (", for his part,").
_PARENTHESIS = re.compile(
    r",\s+(?:(?:which|who|that|whose)\b[^,;.]{1,120}|(?:an?|the)\s+[^,;.]{0,60}?\b(?:group|militia|movement|"
    r"organi[sz]ation|faction|party|network|battalion|brigade|company|alliance|force|forces|army|agency|coalition|"
    r"council|bloc|union|government|firm|cartel|gang|regime)\b[^,;.]{0,80}|"
    r"(?:the|its|his|her|their)\s+(?:[\w’'-]+\s+){0,3}?(?:minister|commissioner|president|secretary|chief|head|leader|"
    r"director|chair|chairman|chairwoman|envoy|ambassador|commander|governor|premier|speaker|negotiator)\b[^,;.]{0,40}|"
    r"for (?:its|his|her|their) part|meanwhile|"
    r"however|in turn|too|also|by contrast|for now|so far|in particular|in response|for example|at least|"
    r"for (?:its|his|her|their) own part),")
_ORG_NOUNS = (r"group|militia|movement|organi[sz]ation|faction|party|network|battalion|brigade|alliance|coalition|"
              r"cartel|gang|insurgency|company|firm|corporation|conglomerate|producer|processor|maker|manufacturer|"
              r"operator|insurer|bank|exporter|importer|refiner")
_GROUP_APPOSITIVE = re.compile(rf",\s+(?:an?|the)\s+(?:[\w’'-]+\s+){{0,3}}?(?:{_ORG_NOUNS})\b")
# The name apposed after an organisation noun ("sanctions on its state oil company, PDVSA, which").
_ORG_BEFORE = re.compile(rf"\b(?:{_ORG_NOUNS}),\s+$")
_VERB_FOLLOWERS = {"the", "a", "an", "its", "his", "her", "their", "our", "this", "that", "these", "those", "it", "them",
                   "him", "us", "no", "all", "most", "some", "any", "both", "each", "every"}
_REQUEST = re.compile(r"\b(?:ask|asks|asked|urge|urges|urged|press|presses|pressed|call on|calls on|called on|tell|tells|"
                      r"told|persuade|persuaded|encourage|encouraged|force|forces|forced|push|pushed|invite|invited|"
                      r"beg|begged|want|wants|wanted|allow|allowed)\s+(?:the\s+)?$")


def _is_verb(word: str, following: str = "", institution: bool = False) -> bool:
    """Whether a word after a name reads as its verb: an auxiliary or common verb, a past form, or a
    third-person form before a determiner or pronoun ("Mali controls its territory") — or, after an
    institution's name, before a preposition too ("The European Council meets on")."""
    if word in _AUX or word in _IRREGULAR_PAST:
        return True
    if word in _THING_NOUNS:
        return False  # a plural noun the name modifies ("Bayraktar drones"), not a verb
    if re.fullmatch(r"[a-z]+(?:ed|es)", word) and not re.fullmatch(r"[a-z]+(?:ies|ses)", word):
        return True
    followers = _VERB_FOLLOWERS | _PREPOSITIONS if institution else _VERB_FOLLOWERS
    return bool(re.fullmatch(r"[a-z]{3,}s", word)) and not word.endswith(("ss", "us", "is")) \
        and following in followers


_PREPOSITIONS = {"on", "in", "at", "with", "for", "to", "next", "today", "again", "tomorrow", "this", "later"}
# Verbs of reporting: an outlet or a research body that only reports ("Reuters reported") is a source.
_REPORTING = {"reported", "reports", "wrote", "writes", "published", "publishes", "quoted", "quotes", "cited", "cites",
              "noted", "notes", "estimated", "estimates"}


def _words_after(text: str, end: int) -> list[str]:
    """The first two words after a name, past a parenthesis and adverbs ([] if a comma or stop comes first)."""
    rest = text[end:end + 260]
    m = _PARENTHESIS.match(rest)
    if m:
        rest = rest[m.end():]
    rest = re.sub(rf"^\s+(?:{_ADVERBIAL}\s+)+", " ", rest)
    if not re.match(r"\s", rest):
        return []
    return re.findall(r"[\w’']+", rest[:60])[:2]


_NOT_DOING = {"is", "are", "was", "were", "be", "been", "being", "remains", "remained", "seems", "seemed", "appears",
              "appeared", "has", "have", "had", "will", "would", "may", "might", "could", "can", "must", "should",
              "shall", "did", "does", "do", "lies", "lay", "borders", "bordered", "contains", "holds"}
"""Verbs after 'which'/'X and its partners' that do not show the name doing something: copulas,
auxiliaries (a passive or a tense to come: "which was annexed", "which has been"), and a place's
own verbs ("which lies", "which borders")."""
_RELATIVE = re.compile(r",\s+(?:which|who)\s+((?:(?:on|in|at|by|last|this|since|earlier|later)(?:\s+[\w’']+){1,3}?\s+)?)"
                       r"([a-z][\w’']*)\s+([\w’']*)")


def _relative_acts(text: str, end: int) -> bool:
    """A relative clause on the name whose own verb says what it did: "the International Court of
    Justice, which on December 1 ordered Venezuela" (see :data:`_NOT_DOING` for what says nothing)."""
    m = _RELATIVE.match(text, end)
    return bool(m) and m.group(2) not in _NOT_DOING and _is_verb(m.group(2), m.group(3))


def _acts_with_partners(text: str, end: int) -> bool:
    """The name and its own people act together: "ExxonMobil and its partners found"."""
    m = re.match(r"\s+and\s+(?:its|their|his|her)\s+[a-z]+\s+([a-z][\w’']*)\s*([\w’']*)", text[end:end + 80])
    return bool(m) and m.group(1) not in _NOT_DOING and _is_verb(m.group(1), m.group(2))


def _copula_only(text: str, end: int) -> bool:
    """The name is followed by a copula that is no auxiliary of an action ("is almost everything", not
    "is pushing", "was sent", "is to")."""
    m = re.match(r"\s+(?:is|was|remains|remained|seems|seemed)\s+(?:\w+ly\s+)?([\w’']+)", text[end:end + 60])
    return bool(m) and not re.fullmatch(r"[a-z]+(?:ing|ed|en)|to|not|now|also|still|already|ready|able|"
                                        r"determined|prepared|willing|set|about", m.group(1))


def _verb_after(text: str, end: int) -> str:
    """The first word after a name, past a parenthesis and adverbs ("" if a comma or stop comes first)."""
    return (_words_after(text, end) or [""])[0]


def _acts_after(text: str, end: int, institution: bool = False) -> bool:
    """A verb follows a name at ``end``, past a parenthesis and adverbs ("X, for his part, got")."""
    nxt = _words_after(text, end)
    return bool(nxt) and _is_verb(nxt[0], nxt[1] if len(nxt) > 1 else "", institution)


# Generic nouns that name things, not people: a name right after one is a thing's name ("the tanker Stena Impero").
_THING_NOUNS = set("""tanker supertanker ship vessel boat carrier destroyer frigate submarine aircraft jet drone drones
missile missiles rocket system operation exercise plan treaty deal accord agreement pact resolution doctrine
programme program project pipeline company firm airline newspaper channel agency brand base camp city town village
province region district port airport strait river sea ocean mountain mount island bridge dam field facility site
plant reactor mosque church hotel square street prison lake bay canal peninsula desert valley reservoir corridor
gulf highway road summit""".split())
_MILITARY_UNITS = {"Marines", "Navy", "Army", "Forces", "Force", "Troops", "Guards", "Corps", "Brigade", "Division",
                   "Regiment", "Battalion", "Commandos", "Special Forces", "Coast Guard", "Command", "Fleet"}
_REGIONS = {"North", "South", "East", "West", "Northern", "Southern", "Eastern", "Western", "Caucasus", "Balkans",
            "Levant", "Maghreb", "Sahel", "Gulf", "Middle East", "Far East", "Near East", "Arctic", "Antarctic"}
# World regions named by a part of a continent ("Central and Eastern Europe", "Latin America"): places. A continent
# alone may stand for its states ("Europe has tried to save the deal") and needs agency like any name.
_CONTINENT = re.compile(r"(?:(?:North|South|East|West|Northern|Southern|Eastern|Western|Central|Southeast|Northeast|"
                        r"Southeastern|Sub-Saharan|Continental)\s+)+(?:Europe|Asia|Africa|Eurasia)|"
                        r"(?:Latin|South|Central)\s+America")
_SOURCE_NOUNS = re.compile(r"^(?:,?\s*|\s+(?:is|was)\s+)(?:an?|the)\s+(?:\w+\s+){0,3}(?:analyst|expert|professor|fellow|"
                           r"researcher|scholar|correspondent|journalist|editor|reporter|author|historian|commentator|"
                           r"columnist|lecturer|economist)\b")
_PUBLIC_NOUNS = r"(?:electorate|public|voters|population|people|citizenry)"
_INSTITUTION_NOUNS = r"army|military|junta|regime|parliament|navy|air force|government|cabinet|legislature|" \
                     r"opposition|security services|intelligence services|generals"
# A state's institution named by its demonym that can decide apart from the state ("the Pakistani army"); its
# government or cabinet is the state itself.
_OWN_INSTITUTION = r"army|military|junta|parliament|generals|opposition|security services|intelligence services"
_INSTITUTION_HEADS = re.compile(r"\b(?:Parliament|Congress|Senate|Assembly|Council|Ministry|Department|Army|Navy|"
                                r"Air Force|Guards?|Corps|Command|Committee|Agency|Bank|Court|Party|Commission|"
                                r"Office|Cabinet|Government|Union|Organi[sz]ation|Alliance|Forces|Police|Service)\b")
_ARMED_CONTEXT = re.compile(r"\b(?:militant|militia|militias|armed|rebel|rebels|fighters|insurgent|insurgents|"
                            r"guerrilla|paramilitary|terrorist|jihadist|proxies|proxy)\b", re.I)
_LEADER_CONTEXT = re.compile(r"\b(?:leader|head|commander|general|chief|president|minister|king|emir|ruler|"
                             r"chancellor|premier)\b", re.I)
_TIME_WORDS = {"today", "yesterday", "tomorrow", "tonight", "now", "then"}
_CALENDAR = {*calendar.day_name, *calendar.month_name, *calendar.day_abbr, *calendar.month_abbr} - {""}


@dataclass
class _Entity:
    kind: str  # country | person | group | title | public
    name: str
    forms: set[str] = field(default_factory=set)
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    source_only: bool = False
    titled: bool = False
    head_title: bool = False


def mention_spans(text: str, aliases: list[str]) -> list[tuple[int, int, str]]:
    """Every whole-word occurrence of each alias: ``(start, end, alias)``, case-sensitive."""
    out = []
    for alias in aliases:
        for m in re.finditer(r"(?<![\w-])" + re.escape(alias) + r"(?![\w-])", text):
            out.append((m.start(), m.end(), alias))
    return out


def _prev_word(text: str, start: int) -> str:
    m = re.search(r"([\w’']+)[\s(“\"]*$", text[max(0, start - 40):start])
    return m.group(1) if m else ""


def _prev_content_word(text: str, start: int) -> str:
    """The word before ``start``, skipping a determiner ("in the Gulf" gives "in")."""
    m = re.search(r"([\w’']+)\s+(?:the|a|an)\s+$", text[max(0, start - 40):start], re.I)
    return m.group(1) if m else _prev_word(text, start)


def _next_words(text: str, end: int, n: int = 2) -> list[str]:
    return re.findall(r"[\w’']+|[(,]", text[end:end + 60])[:n]


def _not_modifier(text: str, end: int) -> bool:
    """The name is not used as a modifier of a following common noun ("the Pulwama bombing")."""
    nxt = _next_words(text, end, 1)
    return not nxt or not re.fullmatch(r"[a-z][\w’']*", nxt[0]) or nxt[0] in _AUX or nxt[0] in ("and", "or", "who")


_MEMO: dict[tuple[int, int], dict[str, list[int]]] = {}


def _capitalised_elsewhere(text: str, token: str, starts: set[int]) -> bool:
    """``token`` appears capitalised at least once where capitals are not forced (mid-sentence)."""
    key = (id(text), len(text))
    positions = _MEMO.get(key)
    if positions is None:
        # One pass over the text: every whole word with its positions (a per-token search is quadratic).
        positions = {}
        for m in re.finditer(r"(?<![\w-])[^\W\d_][\w’'.-]*?(?![\w-])", text):
            positions.setdefault(m.group(), []).append(m.start())
        _MEMO.clear()
        _MEMO[key] = positions
    answer_key = "\x00" + token
    if answer_key not in positions:
        if not token.isalnum():
            found = any(m.start() not in starts
                        for m in re.finditer(r"(?<![\w-])" + re.escape(token) + r"(?![\w-])", text))
        else:
            found = any(p not in starts for p in positions.get(token, ()))
        positions[answer_key] = [int(found)]
    return bool(positions[answer_key][0])


def _sentence_starts(text: str, segs: list[Segment]) -> set[int]:
    starts = set()
    for s in segs:
        starts.add(s.start)
        m = re.match(r"[“\"‘'(\[]+", s.text)
        if m:
            starts.add(s.start + m.end())
        if s.heading:
            # Every word of a heading line may be capitalised for style.
            for w in re.finditer(r"\S+", s.text):
                starts.add(s.start + w.start())
    for m in re.finditer(r"[“\"]", text):
        starts.add(m.end())
    return starts


def _common_word(token: str, lower_words: set[str]) -> bool:
    """Whether a capitalised sentence-initial word is likely an ordinary word, not a name: it is a
    function word, occurs in lower case elsewhere, or has a common English suffix."""
    low = token.lower()
    plain = bool(re.fullmatch(r"[A-Z]?[a-z]+", token))
    return (low in _FUNCTION or low in lower_words
            or (plain and bool(re.search(r"(?:ing|ly|ed|tion|tions|ment|ments|ness|ity|ies|es|ers|ive|ous|al)$", low))))


def _candidates(text: str, segs: list[Segment]) -> list[tuple[int, int, str, bool]]:
    """Name runs ``(start, end, form, titled)``: titles cut off, sentence-initial common words dropped."""
    starts = _sentence_starts(text, segs)
    lower_words = set(re.findall(r"(?<![\w-])[a-z][\w’']*", text))
    countries = country_index()
    demonym_words = {d for c in countries.values() for d in c.demonyms}
    out = []
    for seg in segs:
        for m in _RUN.finditer(text, seg.start, seg.end):
            s, e = m.start(), m.end()
            form = text[s:e]
            if form in countries:
                out.append((s, e, form, False))
                continue
            titled = False
            t = _TITLE_RE.match(form + " ")
            if t and t.end() <= len(form) + 1:
                if t.end() >= len(form):
                    # A title alone: keep it whole (it may stand for one person).
                    out.append((s, e, form, False))
                    continue
                titled = True
                s += t.end()
                form = text[s:e]
            # Drop leading sentence-initial common words ("As", "Yet", "Estimates") one by one, and a date or
            # time word before a name anywhere ("On 18 December Lloyd Austin", "Today Abdul-Malik al-Houthi").
            while form:
                first = re.match(r"\S+", form).group()
                if (first in _CALENDAR or first.lower() in _TIME_WORDS) and " " in form:
                    s += re.match(r"\S+\s+", form).end()
                    form = text[s:e]
                    continue
                if s in starts and (first.lower() in _FUNCTION or first.lower() in lower_words) \
                        and first not in countries and not _capitalised_elsewhere(text, first, starts):
                    rest = re.match(r"\S+\s+(?:(?:of|in|for)\s+)?", form)
                    if rest is None or rest.end() >= len(form):
                        form = ""
                        break
                    s += rest.end()
                    form = text[s:e]
                    continue
                break
            if not form:
                continue
            # Split at connectors unless the whole is a known name or a title.
            parts = [(s, e)]
            if re.search(r"\s(?:of|in|for)\s", form) and form not in countries and not _TITLE_RE.fullmatch(form + " "):
                parts, pos = [], 0
                # "in"/"for" always separate two names; "of" only before a country or a name also used
                # alone ("Line of Control" stays whole, "Anna Kessel of Valdoria" does not).
                own = _country_forms_in(form, countries, text)
                of_rx = r"|\sof\s(?=(?:" + "|".join(re.escape(n) for n in own) + r")\b)" if own else ""
                for sep in re.finditer(r"\s(?:in|for)\s" + of_rx, form):
                    parts.append((s + pos, s + sep.start()))
                    pos = sep.end()
                parts.append((s + pos, e))
            parts = [q for a, b in parts for q in _split_countries(text, a, b, countries)]
            prev_end, prev_country = -2, False
            for a, b in parts:
                piece = text[a:b]
                after_country, prev_end, prev_country = prev_country and prev_end == a - 1, b, piece in countries
                if after_country and (piece.split()[-1] in _MILITARY_UNITS or piece in _MILITARY_UNITS):
                    # "the Pakistan Air Force": the state's own force, as "British Royal Marines" below.
                    continue
                first = piece.split()[0]
                if " " in piece and first in demonym_words and piece not in countries:
                    # "British Royal Marines": the state's own forces; "Turkish Bayraktar": a product.
                    rest = piece[len(first):].lstrip()
                    if rest.split()[-1] in _MILITARY_UNITS or rest in _MILITARY_UNITS:
                        continue
                    a, piece = b - len(rest), rest
                if piece in _REGIONS or _CONTINENT.fullmatch(piece):
                    continue
                if a in starts and " " not in piece and piece not in countries \
                        and not _capitalised_elsewhere(text, piece, starts) and _common_word(piece, lower_words):
                    continue
                if piece in _CALENDAR or piece.lower() in _FUNCTION:
                    continue
                out.append((a, b, piece, titled and (a, b) == parts[0]))
    return out


_INTERNATIONAL = re.compile(r"\b(?:United Nations|UN|European|African|Arab|Asian|World|International|Inter-American|"
                            r"Atlantic|Pacific|Islamic|Gulf)\b")
# A state's finance and defence ministries by their one-word names: the state's, not actors of their own.
_ONE_WORD_DEPARTMENTS = {"Treasury", "Pentagon", "Exchequer"}
_SHIP_PREFIX = {"USS", "HMS", "HMCS", "HMAS", "HMNZS", "INS", "RFS", "FS", "MV", "MT", "SS", "RV", "ROKS", "JS"}


def _possessive_part(text: str, form: str) -> bool:
    """``form`` occurs only as the possessive first word of a longer name ("People’s Liberation Army")."""
    if " " in form:
        return False
    total = _count_whole(text, form)
    inside = len(re.findall(r"(?<![\w-])" + re.escape(form) + r"[’']s\s+[A-Z]", text))
    return total > 0 and inside == total and form.lower() in _COMMON_NOUNS_IN_NAMES


# Common nouns that begin names in the possessive ("People’s Republic", "Workers' Party").
_COMMON_NOUNS_IN_NAMES = {"people", "peoples", "workers", "women", "children", "martyrs", "citizens", "farmers",
                          "nations", "veterans", "students", "soldiers", "mothers", "fathers"}


def _thing_name(piece: str) -> bool:
    """A name of a thing or a place by its head noun: "Crimean Bridge", "Roseires Dam", "Strait of Hormuz",
    "Sea of Azov", a ship ("USS Ronald Reagan"); an institution's name ("... Agency") is none."""
    words_ = piece.split()
    if len(words_) < 2:
        return False
    if words_[-1] not in ("Command", "Department", "Ministry", "Administration") and words_[0] not in (
            "Department", "Ministry") and _INSTITUTION_HEADS.search(piece):
        return False
    if words_[0] in _SHIP_PREFIX or words_[0] in ("Operation", "Exercise"):
        return True  # a ship ("USS Carney"), a military operation or exercise ("Operation Prosperity Guardian")
    if words_[-1] == "Command":
        return True  # a state's military command ("the Eastern Theater Command"), folded into its state
    if (words_[-1] in ("Department", "Ministry", "Administration") or words_[0] in ("Department", "Ministry")) \
            and not _INTERNATIONAL.search(piece):
        return True  # a state's executive department ("the Justice Department"), folded into its state
    if words_[1] == "of" and words_[0].lower() in _THING_NOUNS:
        return True
    return words_[-1].lower() in _THING_NOUNS


# A name followed by an appositive whose head is a vessel or a place ("the Rubymar, a British-owned bulk carrier")
# names that thing.
_THING_APPOSITIVE = re.compile(r",\s+(?:an?|the)\s+(?:[\w’'-]+\s+){0,3}?(?:tanker|supertanker|ship|vessel|boat|"
                               r"carrier|destroyer|frigate|submarine|freighter|trawler|yacht|ferry|city|town|village|"
                               r"province|region|district|port|island|river|dam|bridge|plant|field|pipeline)\b")


def _thing_apposed(text: str, form: str) -> bool:
    """``form`` is once followed by an appositive naming a vessel or a place (see ``_THING_APPOSITIVE``)."""
    return any(_THING_APPOSITIVE.match(text, m.end())
               for m in re.finditer(r"(?<![\w-])" + re.escape(form) + r"(?![\w-])", text))


@functools.lru_cache(maxsize=4096)
def _count_whole(text: str, form: str) -> int:
    return len(re.findall(r"(?<![\w-])" + re.escape(form) + r"(?![\w-])", text))


def _country_forms_in(form: str, countries: dict, text: str = "") -> list[str]:
    """Parts after a connector that are names of their own: a country, or a name the text also uses alone."""
    out = []
    for w in re.split(r"\s(?:of|in|for)\s", form)[1:]:
        alone = bool(text) and _count_whole(text, w) > _count_whole(text, form)
        if w in countries or (text and alone):
            out.append(w)
    return out


def _split_countries(text: str, a: int, b: int, countries: dict) -> list[tuple[int, int]]:
    """Cut a country name off either end of a run ("Lebanon CNN" is "Lebanon" and "CNN")."""
    form = text[a:b]
    if form in countries or " " not in form:
        return [(a, b)]
    tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", form)]
    for k in range(len(tokens) - 1, 0, -1):
        head, tail = form[:tokens[k - 1][1]], form[tokens[k][0]:]
        if head in countries:
            return [(a, a + len(head))] + _split_countries(text, a + tokens[k][0], b, countries)
        if tail in countries:
            return _split_countries(text, a, a + tokens[k - 1][1], countries) + [(a + tokens[k][0], b)]
    return [(a, b)]


def find_actors(text: str, segs: list[Segment] | None = None) -> list[DraftActor]:
    """The actors of an article, each with aliases and every mention (see the module docstring)."""
    segs = sentences(text) if segs is None else segs
    heading_spans = [(s.start, s.end) for s in segs if s.heading]
    countries = country_index()
    demonyms = demonym_index()
    all_demonyms = {d for c in countries.values() for d in c.demonyms}
    entities: dict[str, _Entity] = {}
    by_form: dict[str, _Entity] = {}

    heading_starts = [a for a, _ in heading_spans]

    def in_heading(pos: int) -> bool:
        i = bisect.bisect_right(heading_starts, pos) - 1
        return i >= 0 and pos < heading_spans[i][1]

    cands = _candidates(text, segs)
    # A name that ends a thing's name is that thing ("Prosperity Guardian" after "Operation Prosperity Guardian").
    thing_forms = {form for _, _, form, _ in cands if _thing_name(form)}

    def thing_tail(form: str) -> bool:
        return any(t.endswith(" " + form) for t in thing_forms)

    # Persons first (multi-word names not after a determiner), so lone surnames can join them.
    for s, e, form, titled in cands:
        if form in countries or form in demonyms or form in all_demonyms or _thing_name(form):
            continue
        words_ = form.split()
        prev = _prev_word(text, s).lower()
        if len(words_) >= 2 and (prev not in _DETERMINERS or prev == "that") and not prev.endswith(("’s", "'s")) \
                and prev not in _THING_NOUNS and not _TITLE_RE.fullmatch(form + " ") \
                and not _INSTITUTION_HEADS.search(form) and not re.search(r"\s(?:of|in|for)\s", form) \
                and not thing_tail(form) and not _thing_apposed(text, form):
            ent = by_form.get(form) or entities.setdefault(form, _Entity("person", form))
            ent.forms.add(form)
            ent.titled |= titled
            by_form[form] = ent
    for s, e, form, titled in cands:
        if form in by_form:
            by_form[form].titled |= titled
            if titled:
                head = text[max(0, s - 40):s]
                by_form[form].head_title |= any(head.rstrip().endswith(t) for t in _HEAD_TITLES)
            continue
        if form in countries:
            c = countries[form]
            ent = entities.setdefault("country:" + c.name, _Entity("country", c.name))
            ent.forms.add(form)
            by_form.setdefault(form, ent)
            continue
        if form in demonyms or form in all_demonyms or (form.endswith("s") and form[:-1] in all_demonyms):
            continue
        if _thing_name(form) or _possessive_part(text, form) or thing_tail(form) or _thing_apposed(text, form) \
                or form in _ONE_WORD_DEPARTMENTS or all(
                _prev_word(text, m.start()).lower() in _THING_NOUNS
                for m in re.finditer(r"(?<![\w-])" + re.escape(form) + r"(?![\w-])", text)):
            # A thing or a place ("Crimean Bridge"), a name only ever after a generic noun ("the frigate
            # Kemal Reis"), or the first word of a name in the possessive form
            # ("People’s Liberation Army"): never an actor, but its span keeps a shorter name inside from counting.
            ent = entities.setdefault("thing:" + form, _Entity("thing", form))
            ent.forms.add(form)
            by_form[form] = ent
            continue
        persons = [p for p in entities.values() if p.kind == "person"
                   and " " not in form and form in re.sub(r"[\[\]]", "", p.name).split()[-1:]]
        heads = [g for g in entities.values() if g.kind == "group" and " " not in form
                 and ((" " in g.name and (form in g.name.split()[1:] or form.rstrip("s") in g.name.split()[1:]))
                      or (" " not in g.name and g.name.count("-") >= 2 and g.name.split("-")[0] == form))]
        if not persons and len(heads) == 1:
            # "the Guards" after "the Islamic Revolutionary Guard Corps": a short form of the same group.
            heads[0].forms.add(form)
            by_form[form] = heads[0]
            continue
        if len(persons) == 1:
            persons[0].forms.add(form)
            by_form[form] = persons[0]
            persons[0].titled |= titled
            continue
        if _TITLE_RE.fullmatch(form + " "):
            ent = entities.setdefault("title:" + form, _Entity("title", form))
            ent.forms.add(form)
            by_form[form] = ent
            continue
        ent = entities.setdefault("group:" + form, _Entity("group", form))
        ent.forms.add(form)
        by_form[form] = ent

    # Publics: "the US electorate", "the Iranian public".
    country_forms = sorted((f for f, ent in by_form.items() if ent.kind == "country"), key=len, reverse=True)
    lead = "|".join(re.escape(f) for f in country_forms + sorted(all_demonyms, key=len, reverse=True))
    if lead:
        for m in re.finditer(rf"(?<![\w-])(?:the\s+)?(?:{lead})\s+{_PUBLIC_NOUNS}(?![\w-])", text):
            form = m.group()
            name = form[4:] if form.startswith("the ") else form
            ent = entities.setdefault("public:" + name, _Entity("public", name))
            ent.forms.add(form)
            ent.evidence.append("public")
            by_form[form] = ent

    # A stand-in description for an institution that acts ("The army, which ..., wants to"): an actor.
    own = "|".join(re.escape(d) for d in sorted(all_demonyms, key=len, reverse=True))
    for m in re.finditer(rf"(?<![\w-])(?:The|the)\s+(?:(?:{_INSTITUTION_NOUNS})|(?:{own})\s+(?:{_OWN_INSTITUTION}))"
                         rf"(?![\w-])", text):
        if _acts_after(text, m.end()):
            form = m.group()
            ent = entities.setdefault("institution:" + form, _Entity("institution", form))
            ent.forms.add(form)
            ent.evidence.append(f"acts@{m.start()}")
            by_form[form] = ent

    # Office titles used alone stand for the one person introduced with a head-of-state title.
    heads = [p for p in entities.values() if p.kind == "person" and p.head_title]
    for key, ent in list(entities.items()):
        if ent.kind == "title":
            if len(heads) == 1 and any(ent.name == t or ent.name.startswith(t) for t in _HEAD_TITLES):
                heads[0].forms |= ent.forms
                for f in ent.forms:
                    by_form[f] = heads[0]
            del entities[key]

    def placed(s: int) -> bool:
        return _prev_word(text, s).lower() in _PLACE_PREP or _prev_content_word(text, s).lower() in _PLACE_PREP

    # Evidence of agency, mention by mention.
    all_forms = sorted(by_form, key=len, reverse=True)
    spans = resolve_overlaps(mention_spans(text, all_forms))
    for s, e, form in spans:
        by_form[form].spans.append((s, e, form))
    for ent in entities.values():
        for s, e, form in ent.spans:
            if in_heading(s):
                continue
            prev = _prev_word(text, s)
            nxt = _next_words(text, e, 3)
            after = text[e:e + 2]
            if after in ("’s", "'s") and len(text) > e + 2 and not text[e + 2].isalnum():
                if ent.kind == "country" and re.match(r"\s+(?:[A-Z][\w-]*\s+)*[A-Z][\w-]*\s+(?:movement|group|"
                                                      r"militia|rebels|party|company|firm)\b", text[e + 2:e + 80]):
                    continue  # "Yemen's Houthi movement": the country locates a named group, it does not own it
                if prev.lower() not in _PLACE_PREP:
                    ent.evidence.append(f"owns@{s}")
                continue
            if re.search(r"\b(?:town|city|village|port|province|region|district|island)\s+of\s+$", text[max(0, s - 30):s]):
                continue  # "the town of Shusha, which overlooks": a place
            if _GROUP_APPOSITIVE.match(text, e) or (_ORG_BEFORE.search(text[max(0, s - 40):s])
                                                     and re.match(r",\s", text[e:e + 2])):
                # "(belonged to) the Signed-in-Blood Battalion, a group that ...": the text says it is an
                # organisation, wherever it stands.
                ent.evidence.append(f"apposition@{s}")
                continue
            if _relative_acts(text, e) or _acts_with_partners(text, e):
                # what it did is said right after it, wherever it stands ("appealed to the Court, which ordered")
                ent.evidence.append(f"acts@{s}")
                continue
            if prev.lower() in _PLACE_PREP or _prev_content_word(text, s).lower() in _PLACE_PREP:
                continue
            if prev.lower() in _OBJECT_PREP or _prev_content_word(text, s).lower() in _OBJECT_PREP:
                # The object of a preposition is not the subject of the verb after it ("a strike on X killed").
                continue
            if prev.lower() in ("his", "her", "their", "its", "our", "my", "your") or prev.endswith(("’s", "'s")):
                # Someone's thing ("his Twitter feed"): not an actor of its own.
                continue
            if prev.lower() in _AGENT_PREP:
                ent.evidence.append(f"{prev.lower()}@{s}")
                continue
            if ent.kind == "group" and _verb_after(text, e) in _REPORTING:
                # "Reuters reported", "the institute estimates": a source, not a participant.
                ent.evidence.append(f"reports@{s}")
                continue
            if ent.kind != "country" and _copula_only(text, e):
                continue  # "the Nile is almost everything": a copula says what it is, not what it does
            if _acts_after(text, e, bool(_INSTITUTION_HEADS.search(form))):
                ent.evidence.append(f"acts@{s}")
                continue
            rel = re.match(r",\s+(?:which|who|that)\b[^,;.]{1,120},\s+([\w’']+)", text[e:e + 200])
            if rel and (rel.group(1) in _AUX or re.fullmatch(r"[a-z]+ed", rel.group(1))):
                # "The Islamic Revolutionary Guard Corps, which answers to ..., carried out"
                ent.evidence.append(f"acts@{s}")
                continue
            if nxt and (nxt[0] in _AUX or (nxt[0] in ("(", ",") and len(nxt) > 1 and nxt[1] == "who") or nxt[0] == "who"):
                ent.evidence.append(f"acts@{s}")
                continue
            if nxt and re.fullmatch(r"[a-z]+(?:ed|es)", nxt[0]) and not re.fullmatch(r"[a-z]+(?:ies|ses)", nxt[0]) \
                    and nxt[0] not in _THING_NOUNS:
                ent.evidence.append(f"acts@{s}")
                continue
            if ent.kind == "country" and re.match(r"\s+(?:troops|forces|military|army|navy|government|officials|"
                                                  r"leaders|strikes|sanctions|airstrikes|attacks|missiles|drones)\b",
                                                  text[e:e + 30]):
                ent.evidence.append(f"force@{s}")
        if ent.kind == "person":
            for s, e, form in ent.spans:
                before = text[max(0, s - 20):s].lower()
                if "according to" not in before and not _SOURCE_NOUNS.match(text[e:e + 60]) \
                        and _verb_after(text, e) not in _REPORTING \
                        and not re.search(r"spokes(?:man|woman|person)\s*,?\s*$", before):
                    break
            else:
                ent.source_only = bool(ent.spans)
        if ent.kind == "group" and " " not in ent.name:
            # "the Houthis", "the Taliban": a named collective after "the" acts as a group.
            if any(_prev_word(text, s).lower() == "the" and not in_heading(s) and _not_modifier(text, e)
                   and not _copula_only(text, e) for s, e, _ in ent.spans) \
                    and not any(_prev_content_word(text, s).lower() in _PLACE_PREP for s, _, _ in ent.spans):
                ent.evidence.append("the-group")

    # Lists of names share their verb ("The United States, China and Saudi Arabia all pressed") and the
    # request made of them ("asked Germany and France to press Moscow"): every member acts.
    chain: list[tuple[int, int, str]] = []
    for k, (s, e, form) in enumerate(spans + [(len(text) + 1, len(text) + 1, "")]):
        if chain and re.fullmatch(r"\s*,\s*(?:(?:and|or|nor)\s+)?(?:the\s+)?|\s*,?\s+(?:and|or|nor)\s+(?:the\s+)?",
                                  text[chain[-1][1]:s]) and form:
            chain.append((s, e, form))
            continue
        if len(chain) >= 2 and not in_heading(chain[0][0]) and not placed(chain[0][0]):
            first, last = chain[0][0], chain[-1][1]
            asked = _REQUEST.search(text[max(0, first - 40):first]) and re.match(r"\s+to\s+[a-z]+", text[last:last + 30])
            if asked or _acts_after(text, last):
                for cs, _, cf in chain:
                    by_form[cf].evidence.append(f"{'asked' if asked else 'list-acts'}@{cs}")
        chain = [(s, e, form)] if form else []
    # A name asked to act on its own ("asked the UN Security Council to step in").
    for s, e, form in spans:
        if _REQUEST.search(text[max(0, s - 40):s]) and re.match(r"\s+to\s+[a-z]+", text[e:e + 30]) \
                and not in_heading(s):
            by_form[form].evidence.append(f"asked@{s}")

    def accepted(ent: _Entity) -> bool:
        if not ent.spans or ent.kind == "thing":
            return False
        if ent.kind == "person":
            # A "person" seen only in headings ("Step Back From") or only after a place word ("near In
            # Amenas", "in Khyber Pakhtunkhwa") is a headline's capitals or a place.
            body = [s for s, _, _ in ent.spans if not in_heading(s)]
            return not ent.source_only and bool(body) and not all(placed(s) for s in body)
        if ent.kind != "country":
            # Mostly a place ("in Gaza", "the war in Gaza", "on Gaza") with at most one sign of agency: a place.
            body = [s for s, _, _ in ent.spans if not in_heading(s)]
            if len(body) >= 3 and 3 * sum(placed(s) for s in body) >= 2 * len(body) and len(ent.evidence) <= 1:
                return False
        return any(not ev.startswith("reports@") for ev in ent.evidence)

    # Coordination with an accepted actor ("Hezbollah and Israel") is evidence too; repeat to a fixpoint.
    for _ in range(4):
        changed = False
        for ent in entities.values():
            if accepted(ent):
                continue
            for s, e, form in ent.spans:
                if in_heading(s):
                    continue
                left = re.search(r"([\w’'\]]+)\s+(?:and|or|nor)\s+(?:the\s+)?$", text[max(0, s - 60):s])
                right = re.match(r"\s+(?:and|or|nor)\s+(?:the\s+)?", text[e:e + 12])
                neighbours = []
                if left:
                    neighbours.append(left.group(1))
                if right:
                    nm = _RUN.match(text, e + right.end())
                    if nm:
                        neighbours.append(nm.group())
                if any(n in by_form and by_form[n] is not ent and accepted(by_form[n]) for n in neighbours):
                    ent.evidence.append(f"coordinated@{s}")
                    changed = True
                    break
        if not changed:
            break

    # An acronym and the name it abbreviates are one actor ("EU" and "European Union"): the initials of the
    # name's capitalised words spell the acronym.
    for key, ent in list(entities.items()):
        if ent.kind != "group" or not re.fullmatch(r"[A-Z]{2,6}", ent.name):
            continue
        longs = [g for g in entities.values() if g is not ent and g.kind in ("group", "institution")
                 and " " in g.name and "".join(w[0] for w in g.name.split() if w[0].isupper()) == ent.name]
        if len(longs) == 1 and (accepted(ent) or accepted(longs[0])):
            longs[0].forms |= ent.forms
            longs[0].spans = sorted(longs[0].spans + ent.spans)
            longs[0].evidence += ent.evidence
            for f in ent.forms:
                by_form[f] = longs[0]
            del entities[key]

    actors: list[DraftActor] = []
    taken: set[str] = set()
    for ent in entities.values():
        if not accepted(ent):
            continue
        aliases = sorted({f for _, _, f in ent.spans}, key=lambda f: min(s for s, _, g in ent.spans if g == f))
        mentions = sorted((s, e) for s, e, _ in ent.spans)
        kind = _kind(text, ent)
        name = ent.name
        actors.append(DraftActor(id=slug(name, taken), name=name, kind=kind, aliases=aliases, mentions=mentions,
                                 evidence=ent.evidence[:6]))
    actors.sort(key=lambda a: a.mentions[0][0])
    _count_whole.cache_clear()
    _MEMO.clear()
    return actors


def _kind(text: str, ent: _Entity) -> str:
    if ent.kind == "country":
        return "state"
    if ent.kind == "institution":
        return "institution"
    if ent.kind == "public":
        return "public"
    window = " ".join(text[max(0, s - 80):e + 80] for s, e, _ in ent.spans)
    if ent.kind == "person":
        before = [text[max(0, s - 40):s].rstrip() for s, _, _ in ent.spans]
        if any(b.endswith(r) for b in before for r in _RANKS):
            # "Wing Commander Abhinandan Varthaman": a serving officer, not a leader, unless he acts as one.
            return "leader" if any(b.endswith(t) for b in before for t in _HEAD_TITLES) else "other"
        acts = any(ev.split("@")[0] in ("acts", "owns", "list-acts", "asked", "by", "with") for ev in ent.evidence)
        return "leader" if ent.titled or _LEADER_CONTEXT.search(window) or acts else "other"
    if re.fullmatch(r"[A-Z]{2,6}", ent.name):
        # An acronym ("the EU", "the FSB") names an organisation; armed only with an armed word right by it.
        near = " ".join(text[max(0, s - 40):e + 40] for s, e, _ in ent.spans)
        return "armed_group" if _ARMED_CONTEXT.search(near) else "institution"
    if re.search(r"\b(?:Battalion|Brigades?|Militias?|Front|Legion|Mujahideen)\b", ent.name):
        return "armed_group"  # a fighting unit's name that is no state's own force (those are folded into it)
    if _INSTITUTION_HEADS.search(ent.name):
        return "institution"
    if _ARMED_CONTEXT.search(window) or "the-group" in ent.evidence:
        return "armed_group"
    return "institution"


def resolve_overlaps(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Mentions never overlap: the longer span wins, then the earlier."""
    starts: list[int] = []   # chosen spans, kept sorted by start (they never overlap)
    ends: list[int] = []
    chosen: list[tuple[int, int, str]] = []
    for s, e, f in sorted(spans, key=lambda x: (-(x[1] - x[0]), x[0])):
        i = bisect.bisect_right(starts, s)
        if (i > 0 and ends[i - 1] > s) or (i < len(starts) and starts[i] < e):
            continue
        starts.insert(i, s)
        ends.insert(i, e)
        chosen.append((s, e, f))
    return sorted(chosen)
