"""Subtitles beside a video (.srt / .vtt) become the transcript of the segments they overlap.

``clip.mkv`` finds ``clip.srt``, ``clip.vtt`` and language-tagged files such as ``clip.eng.srt``.
A small parser of our own: UTF-8 with or without BOM, ``<i>``-style tags removed, multi-line cues joined.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cue:
    """One subtitle: shown from ``start`` to ``end`` seconds, its text without markup."""
    start: float
    end: float
    text: str


_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})")
_ARROW = re.compile(r"^\s*(\S+)\s*-->\s*(\S+)")
_TAG = re.compile(r"</?[^>]+>|\{\\[^}]*\}")


def _seconds(stamp: str) -> float:
    m = _TIME.fullmatch(stamp.strip())
    if not m:
        raise ValueError(f"bad subtitle time {stamp!r}")
    h, mi, s, ms = m.groups()
    return int(h or 0) * 3600 + int(mi) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def parse_subtitles(text: str) -> list[Cue]:
    """Cues of an SRT or WebVTT document, in time order."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    cues: list[Cue] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        for i, line in enumerate(lines):
            m = _ARROW.match(line)
            if not m:
                continue
            try:
                start, end = _seconds(m.group(1)), _seconds(m.group(2))
            except ValueError:
                break
            body = " ".join(_TAG.sub("", ln).strip() for ln in lines[i + 1:])
            body = re.sub(r"\s+", " ", body).strip()
            if body and end > start:
                cues.append(Cue(start, end, body))
            break
    return sorted(cues, key=lambda c: c.start)


def find_subtitle_file(video: Path) -> Path | None:
    for ext in (".srt", ".vtt"):
        exact = video.with_suffix(ext)
        if exact.is_file():
            return exact
    for ext in (".srt", ".vtt"):
        tagged = sorted(video.parent.glob(f"{glob_escape(video.stem)}.*{ext}"))
        if tagged:
            return tagged[0]
    return None


def glob_escape(s: str) -> str:
    return re.sub(r"([*?\[\]])", r"[\1]", s)


def transcripts_for(spans: list[tuple[float, float]], cues: list[Cue]) -> list[str | None]:
    """For each [start, end) span, the text of the cues overlapping it (None when none do)."""
    out: list[str | None] = []
    for a, b in spans:
        texts = [c.text for c in cues if c.start < b and c.end > a]
        out.append(" ".join(texts) if texts else None)
    return out


def load_transcripts(video: Path, spans: list[tuple[float, float]]) -> tuple[Path | None, list[str | None]]:
    sub = find_subtitle_file(video)
    if sub is None:
        return None, [None] * len(spans)
    cues = parse_subtitles(sub.read_text(encoding="utf-8-sig", errors="replace"))
    return sub, transcripts_for(spans, cues)
