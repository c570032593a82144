"""Gemini translation and summaries (google-genai)."""


def translator_from_config(cfg):
    return None
