"""Searchable text for a segment and the tokens behind its full-text vector.

The embedded PostgreSQL has only the ``vector`` extension (no pg_trgm, no Korean dictionary), so Korean
full-text search is done the CJK way: each word is indexed as is, and each run of Hangul is also indexed
as overlapping character bigrams. A query is tokenised the same way, so ``스케이트보드`` matches
``스케이트보드를`` through the bigrams they share. Everything goes through PostgreSQL's ``simple``
configuration, which only lower-cases.

Word forms: the index keeps words as written; a query word of five letters or more is matched by its light
English stem as a prefix (``skateboarding`` → ``skateboard:*`` finds "skateboards"), and search compares
stems when it measures how many query words a segment has (``stem``, ``found_in``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

_WORD = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+|[\uAC00-\uD7A3\u3131-\u318E]+|[\u4E00-\u9FFF\u3040-\u30FF]+")
_HANGUL = re.compile(r"[\uAC00-\uD7A3]+")
_STOPWORDS = {"a", "an", "the", "of", "and", "or", "to", "in", "on", "at", "is", "are", "with", "for", "by"}


def normalize_alias(text: str | None) -> str:
    """The form stored in ``member_aliases.normalized`` and matched by search: lower-cased, whitespace removed."""
    return "".join((text or "").lower().split())


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "")]


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, lower-cased word) of every word of ``text``, for marking matched words."""
    return [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text or "")]


def hangul_bigrams(word: str) -> list[str]:
    out: list[str] = []
    for run in _HANGUL.findall(word):
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


def index_tokens(text: str) -> list[str]:
    """Tokens to put into a tsvector: words plus Hangul bigrams (duplicates kept; PG counts positions)."""
    out: list[str] = []
    for w in words(text):
        out.append(w)
        if _HANGUL.search(w) and len(w) > 2:
            out.extend(hangul_bigrams(w))
    return out


def query_tokens(text: str) -> list[str]:
    """Distinct tokens of a query, in order: content words and, for Hangul, bigrams."""
    seen: dict[str, None] = {}
    for w in words(text):
        if w in _STOPWORDS:
            continue
        if _HANGUL.search(w) and len(w) > 2:
            for b in hangul_bigrams(w):
                seen.setdefault(b, None)
        else:
            seen.setdefault(w, None)
    return list(seen)


_LATIN_WORD = re.compile(r"[a-z\u00C0-\u024F]{5,}")
# (suffix, shortest stem left): the common English inflections, cut from words of five letters or more.
_SUFFIXES = (("ing", 4), ("ies", 3), ("ed", 4), ("es", 4), ("s", 4))


def stem(word: str) -> str:
    """A light English stem for matching word forms, never stored: "skateboards", "skateboarding" →
    "skateboard"; "dances", "dancing", "dance" → "danc". Other scripts and short words are left as they are."""
    if not _LATIN_WORD.fullmatch(word):
        return word
    for suffix, shortest in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= shortest:
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    return word[:-1] if word.endswith("e") and len(word) >= 5 else word


@lru_cache(maxsize=4096)
def _prefix(token: str) -> str | None:
    """What a query token matches the start of, as ``tsquery_term`` does: its stem for a long Latin word."""
    return stem(token) if _LATIN_WORD.fullmatch(token) else None


def marks_word(query: set[str], word: str) -> bool:
    """Whether ``word`` (lower-cased, as written in a text) is one of the query's tokens: itself, a form of it
    (it starts with the token's stem) or, in Hangul, through a shared bigram."""
    if word in query or any(p and word.startswith(p) for p in map(_prefix, query)):   # itself, or a form of it
        return True
    return bool(_HANGUL.search(word)) and any(b in query for b in hangul_bigrams(word))


def found_in(query: set[str] | list[str], tokens: set[str]) -> set[str]:
    """The query tokens a text has (``tokens``: its ``index_tokens``), matched as the full-text search matches
    them: the token itself, or for a long Latin word any word starting with its stem."""
    found = set()
    for q in query:
        prefix = _prefix(q)
        if q in tokens or (prefix and any(t.startswith(prefix) for t in tokens)):
            found.add(q)
    return found


def tsquery_term(token: str) -> str:
    """The ``to_tsquery('simple', …)`` term for one query token: the token itself, or for a long Latin word the
    token or its stem as a prefix ("puppies" finds "puppies" and "puppy")."""
    return f"({token} | {stem(token)}:*)" if _LATIN_WORD.fullmatch(token) else token


def tsvector_text(text: str) -> str:
    """The string to feed ``to_tsvector('simple', …)``: tokens joined by spaces, nothing PG would re-split."""
    return " ".join(index_tokens(text))


def tsquery_of(tokens: list[str]) -> str:
    """A ``to_tsquery('simple', …)`` string matching any of ``tokens`` (from ``query_tokens``: word
    characters only, so safe for any user input)."""
    return " | ".join(tsquery_term(t) for t in tokens)


@dataclass
class SegmentText:
    """What a segment says, gathered from every source, and how it is weighted for full-text search."""

    members: list[str] = field(default_factory=list)
    caption_auto: str | None = None
    caption_edited: str | None = None
    caption_ko: str | None = None
    transcript: str | None = None

    @property
    def caption(self) -> str:
        return (self.caption_edited or self.caption_auto or "").strip()

    @property
    def says_something(self) -> bool:
        """Any text beside the member names: what meaning search can compare a query with."""
        return bool(self.caption or (self.caption_ko or "").strip() or (self.transcript or "").strip())

    def embedding_text(self) -> str:
        """One text for the embedder: members first (short), then the best caption, Korean caption, transcript."""
        parts = []
        if self.members:
            parts.append(", ".join(self.members) + ".")
        if self.caption:
            parts.append(self.caption.rstrip(".") + ".")
        if self.caption_ko:
            parts.append(self.caption_ko.strip())
        if self.transcript:
            parts.append(self.transcript.strip())
        return " ".join(parts)

    def weighted_tsvector_parts(self) -> dict[str, str]:
        """Weight letter → token string. A: members + edited caption; B: Korean caption + transcript;
        C: auto caption."""
        a = " ".join(filter(None, [" ".join(self.members), self.caption_edited or ""]))
        b = " ".join(filter(None, [self.caption_ko or "", self.transcript or ""]))
        c = self.caption_auto or ""
        return {"A": tsvector_text(a), "B": tsvector_text(b), "C": tsvector_text(c)}
