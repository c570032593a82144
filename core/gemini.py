"""Gemini translation, summaries and a video's key moments (google-genai).

Every call asks for JSON and parses it; the model's text is data, never markup (renderers escape it).
Every call is time-limited (``gemini.timeout_s``; the key-moment steps, which read a long part of a timeline,
``gemini.moments_timeout_s``) and any failure (missing key, quota, network, timeout, unusable answer) raises
:class:`GeminiUnavailable` with a short notice for the user; search catches it and answers in English, the key
moments (``search.summary``) are then picked offline.
"""
from __future__ import annotations

import json
import logging
import re

from core.errors import MvseError

log = logging.getLogger(__name__)

_MAX_OUT_CHARS = 400
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

_INSTRUCTIONS = {
    "translate": ("You translate short video-scene captions. The user message is JSON with a target language "
                  "code and a list of texts. Answer with a JSON list of strings: the translations, in order, "
                  "same length as the input. Keep people's names as written."),
    "summary": ("You summarise video search results for a Korean content team. The user message is JSON with "
                "the search query and the captions of the best results. Answer with a JSON string: one short "
                "Korean sentence (under 120 characters) saying what the results show."),
    "moments_map": ("You find the key moments in one part of a video for a K-pop / broadcast clip-editing team. The "
                    "user message is JSON: the video's title, the part's time range in seconds (range_s), k, "
                    "optionally a member, and the part's timeline: one line per segment, "
                    "\"[start-end] caption | ko: Korean caption | said: transcript | on screen: names\" (times in "
                    "seconds). Answer with a JSON list of at most k objects {\"start\": seconds, \"end\": seconds, "
                    "\"reason\": one short line of plain English (under 100 characters) saying why the moment "
                    "stands out}, best first, times inside range_s. Prefer what is striking, funny, emotional or "
                    "central to the video over routine footage. With a member, only moments where that member is "
                    "on screen."),
    "moments_reduce": ("You pick a video's top moments for a K-pop / broadcast clip-editing team from candidates "
                       "found part by part. The user message is JSON: the video's title, its duration_s, n, "
                       "optionally a member, and candidates {start, end, reason} (seconds). Answer with a JSON list "
                       "of at most n objects {\"start\": seconds, \"end\": seconds, \"reason\": one short line of "
                       "plain English (under 100 characters)}, best first, no two overlapping, times inside the "
                       "video. Merge candidates that describe the same moment. With a member, only that member's "
                       "moments."),
}
MOMENTS_THEN = "the key moments were picked offline"    # what happens when a key-moment step fails


class GeminiUnavailable(MvseError):
    """Gemini could not answer; ``notice`` is what to tell the user."""

    def __init__(self, notice: str):
        super().__init__(notice)
        self.notice = notice


def _clean(text) -> str:
    text = _CONTROL.sub(" ", str(text))
    return " ".join(text.split())[:_MAX_OUT_CHARS]


class GeminiTranslator:
    """Translations, one-line summaries and key moments through ``google.genai.Client``."""

    def __init__(self, api_key: str, model: str, base_url: str | None = None, timeout_s: float = 8.0,
                 moments_timeout_s: float = 60.0):
        from google import genai
        from google.genai import types

        self.model = model
        self.timeout_s = float(timeout_s)
        self.moments_timeout_s = float(moments_timeout_s)
        self._types = types
        opts = {"timeout": max(1, int(self.timeout_s * 1000))}
        if base_url:
            opts["base_url"] = base_url
        self._client = genai.Client(api_key=api_key, http_options=types.HttpOptions(**opts))

    def _ask(self, task: str, payload: dict, timeout_s: float | None = None, then: str = "showing English captions"):
        """The parsed JSON answer to ``task``; GeminiUnavailable saying what went wrong and ``then`` (what the
        caller does instead)."""
        from google.genai import errors

        types = self._types
        config = types.GenerateContentConfig(
            system_instruction=_INSTRUCTIONS[task], temperature=0.0, response_mime_type="application/json",
            http_options=types.HttpOptions(timeout=max(1, int((timeout_s or self.timeout_s) * 1000))),
        )
        try:
            resp = self._client.models.generate_content(
                model=self.model, contents=json.dumps({"task": task, **payload}, ensure_ascii=False), config=config)
        except errors.APIError as err:
            code = getattr(err, "code", None)
            if code == 429:
                raise GeminiUnavailable(f"Gemini quota exceeded: {then}.") from err
            if code in (401, 403):
                raise GeminiUnavailable(f"Gemini refused the API key (gemini.api_key): {then}.") from err
            raise GeminiUnavailable(f"Gemini error {code}: {then}.") from err
        except Exception as err:
            timed_out = "timeout" in type(err).__name__.lower() or "timed out" in str(err).lower()
            kind = "timed out" if timed_out else "unreachable"
            log.warning("Gemini %s: %s: %s", kind, type(err).__name__, err)
            raise GeminiUnavailable(f"Gemini {kind}: {then}.") from err
        text = resp.text
        if not text:
            raise GeminiUnavailable(f"Gemini gave an empty answer: {then}.")
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise GeminiUnavailable(f"Gemini gave an unusable answer: {then}.") from err

    def translate(self, texts: list[str], target_lang: str = "ko") -> list[str]:
        """Translations of ``texts`` in order."""
        if not texts:
            return []
        out = self._ask("translate", {"target_lang": target_lang, "texts": list(texts)})
        if not isinstance(out, list) or len(out) != len(texts) or not all(isinstance(t, str) for t in out):
            raise GeminiUnavailable("Gemini gave an unusable translation: showing English captions.")
        return [_clean(t) for t in out]

    def summarize(self, query: str, captions: list[str]) -> str:
        out = self._ask("summary", {"query": query, "captions": list(captions)})
        if isinstance(out, dict):
            out = out.get("summary")
        if not isinstance(out, str) or not out.strip():
            raise GeminiUnavailable("Gemini gave an unusable summary.")
        return _clean(out)

    def map_moments(self, title: str, start_s: float, end_s: float, timeline: str, k: int,
                    member: str | None = None) -> list:
        """The key moments of one part of a video's timeline (``moments_map``), as Gemini answered them: a list
        whose items the caller validates (``search.summary``)."""
        return self._moments("moments_map", {"title": title, "range_s": [round(start_s, 1), round(end_s, 1)],
                                             "k": k, "member": member, "timeline": timeline})

    def reduce_moments(self, title: str, duration_s: float, candidates: list[dict], n: int,
                       member: str | None = None) -> list:
        """The video's top ``n`` moments from the parts' candidates (``moments_reduce``), unvalidated as above."""
        return self._moments("moments_reduce", {"title": title, "duration_s": round(duration_s, 1), "n": n,
                                                "member": member, "candidates": candidates})

    def _moments(self, task: str, payload: dict) -> list:
        out = self._ask(task, payload, timeout_s=self.moments_timeout_s, then=MOMENTS_THEN)
        if isinstance(out, dict):
            out = out.get("moments")
        if not isinstance(out, list):
            raise GeminiUnavailable(f"Gemini gave unusable key moments: {MOMENTS_THEN}.")
        return out


def translator_from_config(cfg) -> GeminiTranslator | None:
    """The configured translator, or None when ``gemini.api_key`` is unset (search then answers in English)."""
    g = cfg.gemini
    if not g.api_key:
        return None
    return GeminiTranslator(g.api_key, g.model, base_url=g.base_url, timeout_s=g.timeout_s,
                            moments_timeout_s=g.moments_timeout_s)
