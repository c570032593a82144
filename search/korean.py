"""Korean for one search, through Gemini and its cache: the query in English (a Korean query is also searched
in English), Korean captions for the results, and a one-line Korean summary.

Gemini problems never fail a search: ``GeminiSession`` stops at the first failure and keeps its notice for
the answer (which is then in English).
"""
from __future__ import annotations

import json
import time

from core.errors import MvseError, first_line
from core.gemini import GeminiUnavailable
from db import translations
from search.query import has_hangul

SUMMARY_CAPTIONS = 5
SUMMARY_KIND = "summary:ko"       # the summaries' kind in the translations cache (beside target languages)


class GeminiSession:
    """Calls to the translator for one search: stops at the first failure and remembers its notice.

    Each call is limited by the SDK timeout (``gemini.timeout_s``); no call starts once that much time has
    been spent on Gemini in this search, so a search waits at most about twice the timeout.
    """

    def __init__(self, translator):
        self.translator = translator
        self.spent = 0.0
        self.notice: str | None = None if translator is not None else \
            "Gemini is not configured (set gemini.api_key): captions are shown in English."

    @property
    def usable(self) -> bool:
        return self.translator is not None and self.notice is None

    def call(self, fn, *args):
        if not self.usable:
            return None
        if self.spent >= getattr(self.translator, "timeout_s", 8.0):
            self.notice = "Gemini is slow right now: some captions are shown in English."
            return None
        t0 = time.perf_counter()
        try:
            return fn(*args)
        except GeminiUnavailable as err:
            self.notice = err.notice
            return None
        finally:
            self.spent += time.perf_counter() - t0


def translate_cached(db, gemini: GeminiSession, texts: list[str], lang: str) -> dict[str, str]:
    """Translations of ``texts`` into ``lang`` (cached per text and model)."""
    return translations.answers(db, texts, gemini.translator.model, lang,
                                lambda missing: gemini.call(gemini.translator.translate, missing, lang))


def english_query(db, gemini: GeminiSession, text: str, local=None) -> str | None:
    """The English of a Korean query, from the local query translator when one is configured, else Gemini
    (None when the query is not Korean, there is no translator, or it says the same)."""
    if not text or not has_hangul(text):
        return None
    if local is not None:
        english = translations.answers(db, [text], local.model, "en", lambda m: _local(local, m)).get(text)
    elif gemini.usable:
        english = translate_cached(db, gemini, [text], "en").get(text)
    else:
        return None
    return english if english and english.strip().lower() != text.lower() else None


def _local(translator, texts: list[str]) -> list[str]:
    """The local translator's English; any failure of the model is one MvseError (search says so in a notice)."""
    try:
        return translator.translate(texts, "en")
    except MvseError:
        raise
    except Exception as err:  # noqa: BLE001 - a model's runtime errors vary; the search goes on without it
        raise MvseError(f"{translator.model}: {first_line(err)}") from err


def summary(db, gemini: GeminiSession, query: str, results: list[dict]) -> str | None:
    """The one-line Korean summary of the best results, cached per query and captions (an edited caption
    asks again)."""
    captions = [r["caption"] for r in results[:SUMMARY_CAPTIONS] if r["caption"]]
    if not captions or gemini.translator is None:
        return None
    key = json.dumps({"query": query, "captions": captions}, ensure_ascii=False)
    def ask(_):
        answer = gemini.call(gemini.translator.summarize, query, captions)
        return [answer] if answer else None

    return translations.answers(db, [key], gemini.translator.model, SUMMARY_KIND, ask).get(key)


def add_korean_captions(db, gemini: GeminiSession, results: list[dict]) -> None:
    """Fill caption_ko of results without one from the translation cache / Gemini."""
    need = [r["caption"] for r in results if not r["caption_ko"] and r["caption"] and not has_hangul(r["caption"])]
    if not need or gemini.translator is None:
        return
    ko = translate_cached(db, gemini, need, "ko")
    for r in results:
        if not r["caption_ko"] and r["caption"] in ko:
            r["caption_ko"] = ko[r["caption"]]
