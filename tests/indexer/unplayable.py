"""A small source that browsers cannot play, made here with the bundled ffmpeg: HEVC video and AC-3 audio in MKV."""
from __future__ import annotations

import subprocess
from pathlib import Path


def make_hevc_mkv(out: Path, seconds: float = 3.0, size: str = "320x240", rate: int = 25) -> Path:
    import imageio_ffmpeg

    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
                    "-f", "lavfi", "-i", f"testsrc=d={seconds}:s={size}:r={rate}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p",
                    "-c:a", "ac3", "-shortest", str(out)], check=True, timeout=120)
    return out
