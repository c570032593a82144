"""Transcripts as subtitle files (SubRip ``.srt`` and WebVTT ``.vtt``): one cue per segment that says something, at
the segment's times, with the text as it stands now (a person's correction wins over what was recognised)."""
from __future__ import annotations

FORMATS = {"srt": "application/x-subrip; charset=utf-8", "vtt": "text/vtt; charset=utf-8"}


def _stamp(seconds: float, separator: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def subtitle_file(cues: list[tuple[float, float, str]], fmt: str) -> str:
    """``cues`` (start, end, text) in ``fmt`` ("srt" or "vtt"); blank lines inside a text are dropped, since a
    blank line ends a cue in both formats."""
    separator = "," if fmt == "srt" else "."
    blocks = ["WEBVTT"] if fmt == "vtt" else []
    for n, (start, end, text) in enumerate(cues, 1):
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            continue
        number = [str(n)] if fmt == "srt" else []
        blocks.append("\n".join([*number, f"{_stamp(start, separator)} --> {_stamp(end, separator)}", *lines]))
    return "\n\n".join(blocks) + "\n"
