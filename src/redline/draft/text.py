"""Reading an article and cutting it into sentences and clauses, with character offsets.

Offsets are positions in the article decoded from UTF-8 as a Python ``str`` (Unicode code
points), never bytes, and nothing is normalised: ``text[start:end]`` gives back the span exactly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from redline.errors import Location, ParameterError

__all__ = ["MAX_ARTICLE_BYTES", "Segment", "read_article", "check_article", "sentences", "clauses", "words"]

MAX_ARTICLE_BYTES = 1_000_000
"""Largest article ``redline draft`` reads (1 MB): analyses are a few thousand words."""


@dataclass(frozen=True)
class Segment:
    """A span of the article: a sentence, a clause or a heading line."""

    start: int
    end: int
    text: str
    heading: bool = False
    paragraph: int = 0


def _location(path: str, data: bytes | str, offset: int) -> Location:
    before = data[:offset]
    newline = b"\n" if isinstance(before, bytes) else "\n"
    line = before.count(newline) + 1
    column = offset - (before.rfind(newline) + 1) + 1
    return Location(path, line, column)


def check_article(data: bytes, path: str = "<article>") -> str:
    """Decode an article, refusing what cannot be one (empty, binary, not UTF-8, too large, no sentences).

    Raises :class:`~redline.errors.ParameterError` located at ``file:line:col``.
    """
    if len(data) > MAX_ARTICLE_BYTES:
        raise ParameterError(f"the article is {len(data):,} bytes; the limit is {MAX_ARTICLE_BYTES:,} (1 MB)",
                             Location(path, 1, 1))
    if not data.strip():
        raise ParameterError("the article is empty; give a UTF-8 text file with the analysis", Location(path, 1, 1))
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ParameterError("the article looks binary (NUL byte); give a UTF-8 text file", _location(path, data, nul))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ParameterError(f"the article is not UTF-8 (byte 0x{data[err.start]:02x}); re-save it as UTF-8",
                             _location(path, data, err.start)) from None
    if text.startswith("\ufeff"):
        # A byte-order mark is one code point at offset 0; keep it (offsets count it), but it is no text.
        pass
    control = re.search(r"[\x01-\x08\x0e-\x1f\x7f]", text)
    if control and len(re.findall(r"[\x01-\x08\x0e-\x1f\x7f]", text)) > max(3, len(text) // 1000):
        raise ParameterError("the article looks binary (control characters); give a UTF-8 text file",
                             _location(path, text, control.start()))
    if not any(not s.heading and len(words(s.text)) >= 3 for s in sentences(text)):
        raise ParameterError("the article has no sentences (no line with three or more words ending in . ! or ?)",
                             Location(path, 1, 1))
    return text


def read_article(path: str | Path) -> str:
    """Read and check an article file (see :func:`check_article`)."""
    p = Path(path)
    if not p.exists():
        raise ParameterError(f"no such article file: {p}", Location(str(p)))
    if p.is_dir():
        raise ParameterError(f"{p} is a directory; give an article text file", Location(str(p)))
    with p.open("rb") as fh:
        data = fh.read(MAX_ARTICLE_BYTES + 1)
    if len(data) > MAX_ARTICLE_BYTES:
        size = p.stat().st_size
        raise ParameterError(f"the article is {size:,} bytes; the limit is {MAX_ARTICLE_BYTES:,} (1 MB)",
                             Location(str(p), 1, 1))
    return check_article(data, str(p))


_WORD = re.compile(r"[^\W_](?:[\w’'.-]*[^\W_])?", re.UNICODE)


def words(text: str) -> list[str]:
    """The words of a piece of text (letters/digits, inner apostrophes, hyphens and dots kept)."""
    return _WORD.findall(text)


# Abbreviations after which a full stop does not end a sentence (English honorifics, initials,
# month and military-rank abbreviations, "U.S.").
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "sgt", "adm", "gov", "sen", "rep",
    "st", "jr", "sr", "vs", "etc", "inc", "ltd", "co", "corp", "no", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e", "approx", "est",
}
_CLOSERS = "\"'”’)]»"
_END = re.compile(r"[.!?…]+[" + re.escape(_CLOSERS) + r"]*(?=\s)")


_DATELINE = re.compile(r"[A-Z][A-Z.'’-]+(?: [A-Z][A-Z.'’-]+)*(?:,\s*[A-Z][\w.]*(?: [A-Z][\w.]*)*)?\s+(?:[–—]|--?)\s+(?=[A-Z“\"])")


def _split_line(text: str, start: int, end: int, paragraph: int) -> list[Segment]:
    line = text[start:end]
    out: list[Segment] = []
    pos = 0
    date = _DATELINE.match(line)
    if date and len(line) > date.end() + 20:
        # A dateline in capitals before the first sentence ("TAIPEI — "): a heading, not part of the claim.
        stem = date.group().rstrip(" –—-")
        out.append(Segment(start, start + len(stem), stem, True, paragraph))
        pos = date.end()
    for m in _END.finditer(line):
        stop = m.end()
        # Do not end a sentence at an abbreviation or a single initial ("Abu M. al-X").
        before = re.search(r"([\w.]+)\.$", line[pos:m.start() + 1])
        if m.group().startswith(".") and before is not None:
            token = before.group(1).lower()
            if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                continue
        nxt = line[stop:].lstrip()
        if nxt and nxt[0].islower():
            continue
        seg = line[pos:stop]
        if seg.strip():
            lead = len(seg) - len(seg.lstrip())
            out.append(Segment(start + pos + lead, start + stop, seg.strip(), False, paragraph))
        pos = stop
    rest = line[pos:]
    if rest.strip():
        lead = len(rest) - len(rest.lstrip())
        tail = rest.strip()
        heading = not out and not re.search(r"[.!?…][" + re.escape(_CLOSERS) + r"]*$", tail)
        out.append(Segment(start + pos + lead, start + pos + lead + len(tail), tail, heading, paragraph))
    if len(out) == 1 and not out[0].heading and _heading_like(out[0].text):
        out[0] = Segment(out[0].start, out[0].end, out[0].text, True, paragraph)
    elif len(out) > 1 and len(words(line)) <= 20 and _heading_like(line, title_only=True):
        # A headline of two sentences in Title Case ("The Rebels Have Closed a Sea Lane. Can Anyone Reopen It?").
        out = [Segment(o.start, o.end, o.text, True, paragraph) for o in out]
    return out


def _heading_like(line: str, title_only: bool = False) -> bool:
    """A one-sentence line that is a headline or a section heading even with end punctuation: in Title Case
    ("Algeria's Way With Hostage-Takers Has a Price — Who Pays It?"), or a short question standing alone
    ("Could it come to war?")."""
    ws = words(line)
    long_words = [w for w in ws if len(w) >= 4]
    if len(long_words) >= 3 and sum(w[0].isupper() for w in long_words) >= 0.8 * len(long_words):
        return True
    return not title_only and line.endswith("?") and len(ws) <= 10


def sentences(text: str) -> list[Segment]:
    """Sentences of the article with offsets; a line without end punctuation (a headline, a
    dateline, a section heading) is one segment marked ``heading``."""
    out: list[Segment] = []
    paragraph = 0
    for m in re.finditer(r"[^\n]+", text):
        if not m.group().strip():
            continue
        paragraph += 1
        out.extend(_split_line(text, m.start(), m.end(), paragraph))
    return out


# Clause boundaries inside a sentence: a semicolon, a colon before a lower-case clause, a dash used as
# a clause break (not a pair of dashes round an aside), ", but", ", yet", ", while", ", because", ", and"
# before a long second clause (also after a closing quote: `price," and`), a relative clause that makes
# its own prediction (", which would ..."), and a second predicate with its own modal or verb of saying
# ("... ships and may extend", "offered talks and announced that").
_SPEECH = r"(?:announced|announces|demanded|demands|warned|warns|said|says|threatened|threatens|vowed|vows|promised|" \
          r"promises|insisted|insists|declared|declares|claimed|claims)"
_CLAUSE_BREAK = re.compile(r"\s*;\s+|:\s+(?=[a-z](?:\S+\s+){3,})|,[\"”’]?\s+(?=(?:but|yet|while|whereas|although|though|"
                           r"because)\s)|\s+[–—]\s+(?=[^–—]{25,}$)|"
                           r",[\"”’]?\s+(?=and\s+(?:\S+\s+){4,})|,\s+(?=which\s+(?:would|could|might|will|may)\s)|"
                           r",\s+(?=since\s+(?!\d|then\b)\w+\s+\S+\s+\S+)|"
                           r",\s+(?=(?:most|some|many|all|none|several|both) of (?:which|whom)\s)|"
                           r",\s+(?=whose\s[^,]+$)|(?<=\S[”\"])\s+(?=but\s)|"
                           r",\s+(?=or\s+(?:it|they|he|she|we|[A-Z]\w+)\s+(?:could|can|may|might|would|will)\s)|"
                           r",\s+(?=so\s+(?!that\b|far\b|much\b|many\b|long\b)(?:the|it|they|he|she|we|this|[A-Z]\w*)\s+(?:\S+\s+){2,})|"
                           r"\s+(?=and\s+(?:may|might|could|would|will|must|should)\s+[a-z]+\s+\S+\s+\S+)|"
                           rf"\s+(?=and\s+{_SPEECH}\s+(?:that\s+)?(?:\S+\s+){{2,}})")


_ANNOUNCES = re.compile(r"\b(?:message|messages|line|plain|clear|simple|this|following|warning|point|lesson|question|"
                        r"answer|goal|aim|aims|reason|problem|risk|choice|dilemma|verdict|conclusion|said|says|"
                        r"warned|put it|wrote|declared)\W*$|\b(?:message|warning|lesson|goal|aim|choice)\b", re.I)


def clauses(sentence: Segment) -> list[Segment]:
    """Split a sentence into clauses at strong boundaries (see ``_CLAUSE_BREAK``).

    Pieces under four words stay attached to their neighbour, so an aside never becomes a claim; a
    split at ", and" needs five words or more on each side (a list is no clause break).
    """
    text = sentence.text
    cuts = [0]
    for m in _CLAUSE_BREAK.finditer(text):
        if re.search(r"[–—]", m.group()) and re.search(r"\s[–—]\s", text[:m.start()]):
            continue  # the closing dash of a pair round an aside
        if m.group().startswith(":") and _ANNOUNCES.search(text[:m.start()]):
            continue  # "has made its red line plain: any strike ...": the colon gives the content
        cuts.append(m.start())
        cuts.append(m.end())
    cuts.append(len(text))
    pieces = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]
    merged: list[list[int]] = []
    for a, b in pieces:
        short = 5 if text[a:b].startswith("and ") else 4
        if merged and (len(words(text[a:b])) < short or len(words(text[merged[-1][0]:merged[-1][1]])) < short):
            merged[-1][1] = b
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        chunk = text[a:b]
        lead = len(chunk) - len(chunk.lstrip())
        chunk = chunk.strip()
        if chunk:
            s = sentence.start + a + lead
            out.append(Segment(s, s + len(chunk), chunk, sentence.heading, sentence.paragraph))
    return out
