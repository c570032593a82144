"""Query understanding: clean the user's text, find member names in it, and keep the rest for retrieval.

Member names and aliases are matched against ``member_aliases.normalized`` (lower-cased, no whitespace),
in Korean or English, with Korean particles (이/가/은/는/의/을/를/랑/와/과/도/에서 …) or an English
possessive attached. Up to three consecutive words are tried together ("Kim Min Ji" → ``kimminji``).
A recognised name becomes a member *filter* (every named member must be on screen) and is removed from
the text that goes to the embedder and to full-text search.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import psycopg

from core.textindex import normalize_alias
from db.members import alias_table

MAX_QUERY_CHARS = 500
_MAX_NAME_WORDS = 3

# Longest first, so 에서 is tried before 서-less forms and 이랑 before 랑.
_PARTICLES = sorted(
    ["에서", "에게", "한테", "께서", "이랑", "하고", "처럼", "까지", "부터", "만", "랑", "와", "과", "이", "가",
     "은", "는", "의", "을", "를", "도", "에", "로", "으로", "님", "씨"],
    key=len, reverse=True,
)
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)
_HANGUL = re.compile(r"[\uAC00-\uD7A3]")


def clean_query(raw: str | None) -> tuple[str, bool]:
    """A query safe for every layer: NFC, no control characters or NUL, valid UTF-8, bounded length.

    Returns (text, truncated).
    """
    text = raw or ""
    text = text.encode("utf-8", "replace").decode("utf-8", "replace")  # lone surrogates → '?'
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch if (ch.isprintable() or ch.isspace()) else " " for ch in text)
    text = " ".join(text.split())
    truncated = len(text) > MAX_QUERY_CHARS
    if truncated:
        text = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0] if " " in text[:MAX_QUERY_CHARS] else text[:MAX_QUERY_CHARS]
    return text, truncated


def has_hangul(text: str) -> bool:
    return bool(_HANGUL.search(text or ""))


def name_candidates(word: str) -> list[str]:
    """Normalised forms a query word may stand for: itself, without an English possessive, without particles."""
    w = normalize_alias(_EDGE_PUNCT.sub("", word))
    if not w:
        return []
    out = [w]
    for suffix in ("'s", "’s"):
        if w.endswith(suffix) and len(w) > len(suffix):
            out.append(w[: -len(suffix)])
    # Strip up to two stacked particles (해린이가 → 해린이 → 해린), never the whole word.
    frontier = [w]
    for _ in range(2):
        nxt = []
        for form in frontier:
            for p in _PARTICLES:
                if form.endswith(p) and len(form) > len(p):
                    nxt.append(form[: -len(p)])
        out.extend(nxt)
        frontier = nxt
    return list(dict.fromkeys(out))


@dataclass
class Member:
    id: int
    name: str


@dataclass
class ParsedQuery:
    raw: str
    text: str                                    # what is left for retrieval once member names are removed
    members: list[Member] = field(default_factory=list)
    truncated: bool = False


def load_aliases(conn: psycopg.Connection) -> dict[str, Member]:
    """Normalised alias → member, for every alias and member name."""
    rows = alias_table(conn)
    out: dict[str, Member] = {}
    for r in rows:
        key = "".join(r["normalized"].split())
        out.setdefault(key, Member(r["id"], r["name"]))
    return out


def find_member(aliases: dict[str, Member], name: str) -> Member | None:
    """The member an explicit ``member=`` value names (exact alias first, then with particles stripped)."""
    for cand in name_candidates(name) or [normalize_alias(name)]:
        if cand in aliases:
            return aliases[cand]
    return None


def parse_query(text: str, aliases: dict[str, Member], truncated: bool = False) -> ParsedQuery:
    words = text.split()
    used = [False] * len(words)
    members: list[Member] = []
    i = 0
    while i < len(words):
        matched = 0
        for n in range(min(_MAX_NAME_WORDS, len(words) - i), 0, -1):
            joined = "".join(words[i:i + n])
            member = next((aliases[c] for c in name_candidates(joined) if c in aliases), None)
            if member is not None:
                if all(m.id != member.id for m in members):
                    members.append(member)
                matched = n
                break
        if matched:
            for j in range(i, i + matched):
                used[j] = True
            i += matched
        else:
            i += 1
    rest = " ".join(w for w, u in zip(words, used, strict=True) if not u)
    return ParsedQuery(raw=text, text=rest, members=members, truncated=truncated)
