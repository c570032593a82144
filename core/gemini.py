"""Gemini translation and summaries (google-genai).

Every call asks for JSON and parses it; the model's text is data, never markup (renderers escape it).
Every call is time-limited (``gemini.timeout_s``) and any failure (missing key, quota, network, timeout,
unusable answer) raises :class:`GeminiUnavailable` with a short notice for the user; search catches it and
answers in English.
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
}


class GeminiUnavailable(MvseError):
    """Gemini could not answer; ``notice`` is what to tell the user."""

    def __init__(self, notice: str):
        super().__init__(notice)
        self.notice = notice


def _clean(text) -> str:
    text = _CONTROL.sub(" ", str(text))
    return " ".join(text.split())[:_MAX_OUT_CHARS]


class GeminiTranslator:
    """Translations and one-line summaries through ``google.genai.Client``."""

    def __init__(self, api_key: str, model: str, base_url: str | None = None, timeout_s: float = 8.0):
        from google import genai
        from google.genai import types

        self.model = model
        self.timeout_s = float(timeout_s)
        self._types = types
        opts = {"timeout": max(1, int(self.timeout_s * 1000))}
        if base_url:
            opts["base_url"] = base_url
        self._client = genai.Client(api_key=api_key, http_options=types.HttpOptions(**opts))

    def _ask(self, task: str, payload: dict):
        from google.genai import errors

        types = self._types
        config = types.GenerateContentConfig(
            system_instruction=_INSTRUCTIONS[task], temperature=0.0, response_mime_type="application/json",
            http_options=types.HttpOptions(timeout=max(1, int(self.timeout_s * 1000))),
        )
        try:
            resp = self._client.models.generate_content(
                model=self.model, contents=json.dumps({"task": task, **payload}, ensure_ascii=False), config=config)
        except errors.APIError as err:
            code = getattr(err, "code", None)
            if code == 429:
                raise GeminiUnavailable("Gemini quota exceeded: showing English captions.") from err
            if code in (401, 403):
                raise GeminiUnavailable("Gemini refused the API key (gemini.api_key): showing English "
                                        "captions.") from err
            raise GeminiUnavailable(f"Gemini error {code}: showing English captions.") from err
        except Exception as err:
            timed_out = "timeout" in type(err).__name__.lower() or "timed out" in str(err).lower()
            kind = "timed out" if timed_out else "unreachable"
            log.warning("Gemini %s: %s: %s", kind, type(err).__name__, err)
            raise GeminiUnavailable(f"Gemini {kind}: showing English captions.") from err
        text = resp.text
        if not text:
            raise GeminiUnavailable("Gemini gave an empty answer: showing English captions.")
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise GeminiUnavailable("Gemini gave an unusable answer: showing English captions.") from err

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


def translator_from_config(cfg) -> GeminiTranslator | None:
    """The configured translator, or None when ``gemini.api_key`` is unset (search then answers in English)."""
    g = cfg.gemini
    if not g.api_key:
        return None
    return GeminiTranslator(g.api_key, g.model, base_url=g.base_url, timeout_s=g.timeout_s)
