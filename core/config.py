"""Configuration: one JSON file, validated at start-up, with errors that name the key.

Lookup order for the file: an explicit path (``--config``), else ``$MVSE_CONFIG``, else ``config.json``
in the working directory. A missing default file is fine (every key is optional); a missing file that
was named explicitly is an error.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_CONFIG_FILE = "config.json"
CONFIG_ENV_VAR = "MVSE_CONFIG"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and the fix."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


MIN_TOKEN_LENGTH = 16


class AuthConfig(_Section):
    token: str | None = Field(default=None, repr=False)
    secret: str | None = Field(default=None, repr=False)
    link_ttl_s: int = Field(default=7 * 24 * 3600, gt=0)
    session_ttl_s: int = Field(default=12 * 3600, gt=0)

    @field_validator("token")
    @classmethod
    def _long_enough(cls, token: str | None) -> str | None:
        if token is not None and len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"must be at least {MIN_TOKEN_LENGTH} characters long (it is {len(token)}): a short token can be "
                "guessed. Make one with: python -c 'import secrets; print(secrets.token_urlsafe(24))'")
        return token


class SlackConfig(_Section):
    bot_token: str | None = Field(default=None, repr=False)
    signing_secret: str | None = Field(default=None, repr=False)
    command: str = "/search"
    highlights_command: str = "/highlights"
    api_base_url: str | None = None
    page_size: int = Field(default=5, ge=1, le=10)


class GeminiConfig(_Section):
    api_key: str | None = Field(default=None, repr=False)
    model: str = "gemini-2.5-flash"
    base_url: str | None = None
    timeout_s: float = Field(default=8.0, gt=0)
    # Key moments (search/summary.py): characters of a video's timeline sent in one map request, and the time limit
    # of each map / reduce request (they read far more than a translation does). Every Gemini model's window (1M
    # tokens) holds far more; smaller parts keep each answer focused and quick (2 h of video: about 5 parts).
    context_chars: int = Field(default=60_000, ge=1_000, le=2_000_000)
    moments_timeout_s: float = Field(default=60.0, gt=0)


class YouTubeConfig(_Section):
    """``python -m indexer comments VIDEO --youtube ID``: the YouTube Data API v3 (commentThreads, comments)."""
    api_key: str | None = Field(default=None, repr=False)
    api_base_url: str | None = None         # default https://youtube.googleapis.com/; tests point it at a fake
    max_comments: int = Field(default=100_000, ge=1)
    timeout_s: float = Field(default=30.0, gt=0)


class ModelsConfig(_Section):
    embedding: str = "bongsoo/kpf-sbert-128d-v1"
    captioner: Literal["eilev", "blip2", "none"] = "eilev"
    caption_model: str | None = None
    query_translator: str | None = None        # Korean → English for queries without Gemini: hub name or folder
    faces: str = "buffalo_l"
    asr: str = "small"      # faster-whisper: size name, hub repo, CTranslate2 folder, "tiny.en-offline" or "none"
    device: str = "cpu"
    threads: int = Field(default=1, ge=1)


class FacesConfig(_Section):
    threshold: float = Field(default=0.45, ge=-1.0, le=1.0)
    margin: float = Field(default=0.05, ge=0.0, le=2.0)
    min_det_score: float = Field(default=0.5, ge=0.0, le=1.0)
    sample_fps: float = Field(default=1.0, gt=0)
    min_votes: int = Field(default=1, ge=1)
    # The gallery's quality gate (core/face_quality.py): a face enters a member's gallery only when it passes all three.
    gallery_min_face_px: int = Field(default=40, ge=1)
    gallery_min_det_score: float = Field(default=0.6, ge=0.0, le=1.0)
    gallery_min_sharpness: float = Field(default=40.0, ge=0.0)
    # At most this many gallery faces per member and face model (teaching from the editor stops there).
    gallery_cap: int = Field(default=30, ge=1)
    # Unknown faces (edits/clusters.py): unmatched detections grouped by cosine similarity to a cluster's centroid.
    cluster_threshold: float = Field(default=0.5, ge=-1.0, le=1.0)
    cluster_min_size: int = Field(default=3, ge=1)


class AsrConfig(_Section):
    language: str = "auto"                  # "auto" (detected per video) or a code such as "ko", "en"
    vad: bool = True                        # skip silence and music (Silero VAD)
    beam_size: int = Field(default=5, ge=1, le=10)

    @property
    def language_code(self) -> str | None:
        return None if self.language.strip().lower() == "auto" else self.language.strip()


class IndexerConfig(_Section):
    segment_max_s: float = Field(default=8.0, gt=0)
    segment_min_s: float = Field(default=1.0, ge=0)
    scene_threshold: float = Field(default=27.0, gt=0)
    caption_frames: int = Field(default=8, ge=1)
    thumbnail_width: int = Field(default=320, ge=16)
    proxies: bool = True                                        # browser-playable copies (indexer/proxy.py)
    proxy_max_height: int = Field(default=720, ge=144, le=4320)
    proxy_crf: int = Field(default=26, ge=0, le=51)


class SearchConfig(_Section):
    default_limit: int = Field(default=10, ge=1, le=100)
    ef_search: int = Field(default=100, ge=1, le=1000)


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity, lowered by a container's CPU quota (cgroup v2 ``cpu.max``)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:                  # not Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):           # no cgroup v2 file, or an unexpected line
        pass
    return max(1, cpus)


class ServerConfig(_Section):
    """``python app.py``: how many processes serve requests, and how long a stop may wait for open requests."""
    workers: int | None = Field(default=None, ge=1, le=64)     # None: the CPUs this process may use, at most 4
    graceful_shutdown_s: float = Field(default=5.0, gt=0, le=300)
    # Without auth.token: host names besides localhost / 127.0.0.1 / ::1 / public_url's that requests may name
    # (any other Host is refused: a site re-pointing its own name at 127.0.0.1 must not reach the open server).
    allowed_hosts: list[str] = []

    @property
    def worker_count(self) -> int:
        return self.workers if self.workers is not None else min(4, usable_cpus())


class EmbeddedDbConfig(_Section):
    shared_buffers_mb: int | None = Field(default=None, ge=16)     # None: a quarter of the memory, ≤ 8 GB


class Config(_Section):
    database_url: str | None = Field(default=None, repr=False)
    data_dir: str = "data"
    library_dir: str | None = None
    public_url: str | None = None
    auth: AuthConfig = AuthConfig()
    slack: SlackConfig = SlackConfig()
    gemini: GeminiConfig = GeminiConfig()
    youtube: YouTubeConfig = YouTubeConfig()
    models: ModelsConfig = ModelsConfig()
    faces: FacesConfig = FacesConfig()
    asr: AsrConfig = AsrConfig()
    indexer: IndexerConfig = IndexerConfig()
    search: SearchConfig = SearchConfig()
    embedded_db: EmbeddedDbConfig = EmbeddedDbConfig()
    server: ServerConfig = ServerConfig()

    # Where the file came from; relative paths in it are resolved against its folder.
    source: str | None = Field(default=None, exclude=True)

    @property
    def base_dir(self) -> Path:
        return Path(self.source).resolve().parent if self.source else Path.cwd()

    def resolve_path(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    @property
    def data_path(self) -> Path:
        return self.resolve_path(self.data_dir)

    @property
    def library_path(self) -> Path | None:
        return self.resolve_path(self.library_dir) if self.library_dir else None

    @property
    def thumbnails_path(self) -> Path:
        return self.data_path / "thumbnails"

    @property
    def proxies_path(self) -> Path:
        """Where the browser-playable copies of videos browsers cannot play are kept (``indexer.proxy``)."""
        return self.data_path / "proxies"

    @property
    def clips_path(self) -> Path:
        """Where exported clips (MP4 cuts of segments) are written."""
        return self.data_path / "clips"

    @property
    def faces_path(self) -> Path:
        """Where the gallery's face crops (``<member_faces.id>.jpg``) and photos awaiting a choice are kept."""
        return self.data_path / "faces"

    @property
    def overview_path(self) -> Path:
        """Where the editor's timeline media are kept: audio waveforms and filmstrips (``edits.overview``)."""
        return self.data_path / "overview"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack.bot_token and self.slack.signing_secret)


def _describe(err: ValidationError, origin: str) -> str:
    lines = [f"Invalid configuration in {origin}:"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            lines.append(f"  - unknown key '{key}': remove it or check its spelling (see config.example.json)")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            lines.append(f"  - key '{key}': {msg} (see config.example.json)")
    return "\n".join(lines)


def _drop_comments(data):
    """Keys starting with "_" are comments (JSON has none), as in config.example.json."""
    if isinstance(data, dict):
        return {k: _drop_comments(v) for k, v in data.items() if not str(k).startswith("_")}
    return data


def parse_config(data: dict, origin: str = "<config>") -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"Invalid configuration in {origin}: the top level must be a JSON object")
    try:
        return Config.model_validate(_drop_comments(data))
    except ValidationError as err:
        raise ConfigError(_describe(err, origin)) from None


def load_config(path: str | os.PathLike | None = None) -> Config:
    explicit = path is not None or bool(os.environ.get(CONFIG_ENV_VAR))
    file = Path(path or os.environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_FILE)
    if not file.exists():
        if explicit:
            raise ConfigError(f"Config file {file} does not exist: create it from config.example.json")
        return Config()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ConfigError(f"Config file {file} is not valid JSON: line {err.lineno}, column {err.colno}: "
                          f"{err.msg}") from None
    cfg = parse_config(data, str(file))
    cfg.source = str(file.resolve())
    return cfg
