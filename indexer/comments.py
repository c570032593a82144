"""``comments VIDEO (--youtube ID | FILE)``: viewers' comments as a signal for a video's best moments.

Comments come from the YouTube Data API v3 (``commentThreads`` page by page, replies included, resumable: see
``db.comments``) or from an exported file. The times each comment names are extracted (``extract_times``) and the
video's comments replaced in one transaction; ``db.comments.comment_moments`` groups the mentions into moments.

What counts as a time (``extract_times``), chosen to catch how viewers write times and little else:
- clock forms ``m:ss``, ``mm:ss``, ``mmm:ss`` and ``h:mm:ss``: the seconds are two digits below 60, so scores and
  ratios such as ``2:1`` or ``16:9`` are not times; a clock next to 오전/오후/am/pm is a time of day, not one;
- Korean ``3분``, ``3분 15초``, ``1시간 2분 3초`` (minutes needed: a bare ``15초`` is far more often a duration,
  "15초만에", than a time), but not durations and ages such as ``3분 동안``, ``3분만에``, ``3분간``, ``3분 전``/``후``/
  ``뒤`` (후렴, 간주, 전주 are words of the song and do not count against it), ``3분의``, ``3분들``;
- ``1m30s``/``1h2m3s`` (YouTube's own ``t=`` form);
- a range: two times joined by ``-``, ``~``, ``–``, ``—``, ``to``, ``부터`` … (``1:02-1:10``, ``3분 15초~3분 30초``),
  kept as a range when the second is later and at most ``RANGE_MAX_S`` after the first; otherwise both are times;
- inside web addresses nothing counts (ids and paths are full of digits) except the ``t=``/``start=`` of a YouTube
  link, which names a time of the linked video (assumed to be this one).
A comment naming the same time twice names it once.

Files: JSON (a list of comment objects with a text under ``text``/``textOriginal``/``textDisplay``, likes under
``likes``/``likeCount``/``like_count``/``votes`` and an author under ``author``/``authorDisplayName``; YouTube API
responses with ``items``, one or a list of them; yt-dlp's ``.info.json`` with ``comments``; JSON lines as
youtube-comment-downloader writes), CSV (a header naming a text column, optional likes and author columns; UTF-8 or
the CP949 of Korean Excel) and plain text (one comment per line). Anything but ``.json``/``.jsonl``/``.ndjson``/
``.csv``/``.tsv`` is read as plain text.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tqdm import tqdm

from core.errors import MvseError, first_line
from core.records import clock, one_line
from db import comments as store
from db.videos import get_video
from indexer.shutdown import Stopped, check

RANGE_MAX_S = 120.0         # a longer "range" (0:00-15:00) marks no moment: its two ends count as two times
PAGE_SIZE = 100             # the API's most per page, for threads and for replies
BUSY_S = 600                # a fetch marked running that staged a page this recently is alive: not taken over
RETRIES = 3                 # per request, on 5xx / 429 / network errors (the client's back-off: ≤ 1 + 2 + 4 s)


class CommentsError(MvseError):
    """Comments could not be read or fetched; the message says why and the fix. ``resumable``: running the same
    command again continues (a quota, a network failure); otherwise something must be changed first."""

    def __init__(self, message: str, resumable: bool = False):
        super().__init__(message)
        self.resumable = resumable


# ---------------------------------------------------------------- times named in a comment
_CLOCK = re.compile(r"(?<![\d:：.])(?:(\d{1,2})[:：]([0-5]\d)[:：]([0-5]\d)|(\d{1,3})[:：]([0-5]\d))(?![\d:：])")
_KOREAN = re.compile(
    r"(?<!\d)(?:(\d{1,2})\s*시간\s*)?(\d{1,3})\s*분(?:\s*(\d{1,2})\s*초)?+"
    r"(?!\s*(?:동안|만에|만|간(?!주)|이상|이내|넘|짜리|내내|후(?!렴)|뒤|전(?![주환])|째))(?![들의기])")
_HMS = re.compile(r"(?<![\w.])(?:(\d{1,2})h)?(\d{1,3})m(\d{1,2})s(?!\w)", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_URL = re.compile(r"(?:https?://|www\.|youtu\.be/)\S+?(?=[,.;:!?)\]}>'\"]*(?:\s|$))", re.IGNORECASE)
_URL_T = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")
_RANGE_GAP = re.compile(r"\s*(?:[-~–—～〜]+|->|→|to|till|until|부터|에서)\s*", re.IGNORECASE)
_TIME_OF_DAY_BEFORE = re.compile(r"(?:오전|오후|\bam|\bpm)\s*$", re.IGNORECASE)
_TIME_OF_DAY_AFTER = re.compile(r"^\s*(?:[ap]\.?m\b)", re.IGNORECASE)


def _youtube_link_time(url: str) -> float | None:
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = parts.hostname or ""
    if not (host == "youtu.be" or host.endswith("youtube.com")):
        return None
    params = parse_qs(parts.query) | parse_qs(parts.fragment)
    for value in params.get("t", []) + params.get("start", []):
        m = _URL_T.match(value.strip())
        if m and any(m.groups()):
            h, mi, s = (int(g or 0) for g in m.groups())
            return float(h * 3600 + mi * 60 + s)
    return None


def extract_times(text: str) -> list[tuple[float, float]]:
    """The times a comment names, in order, each once: ``(start_s, end_s)``, equal for a single time, the two ends
    for a range. The rules are in the module docstring."""
    if not _DIGIT.search(text):                             # most comments: no need to look further
        return []
    found: list[tuple[int, int, float, bool]] = []          # (from, to, seconds, may be a range end)

    def link(m: re.Match) -> str:
        t = _youtube_link_time(m.group())
        if t is not None:
            found.append((m.start(), m.end(), t, False))
        return " " * len(m.group())

    clean = _URL.sub(link, text)
    for m in _CLOCK.finditer(clean) if ":" in clean or "：" in clean else ():
        if _TIME_OF_DAY_BEFORE.search(clean[max(0, m.start() - 4):m.start()]) or \
                _TIME_OF_DAY_AFTER.match(clean[m.end():m.end() + 6]):
            continue
        h, mi, s = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (0, m.group(4), m.group(5))
        found.append((m.start(), m.end(), float(int(h) * 3600 + int(mi) * 60 + int(s)), True))
    for m in _KOREAN.finditer(clean) if "분" in clean else ():
        h, mi, s = (int(g or 0) for g in m.groups())
        if s < 60:
            found.append((m.start(), m.end(), float(h * 3600 + mi * 60 + s), True))
    for m in _HMS.finditer(clean):
        h, mi, s = (int(g or 0) for g in m.groups())
        if s < 60:
            found.append((m.start(), m.end(), float(h * 3600 + mi * 60 + s), True))
    found.sort()
    times: list[tuple[float, float]] = []
    i = 0
    while i < len(found):
        a_to, a = found[i][1], found[i][2]
        if i + 1 < len(found) and found[i][3] and found[i + 1][3]:
            b_from, b = found[i + 1][0], found[i + 1][2]
            if b_from >= a_to and _RANGE_GAP.fullmatch(clean[a_to:b_from]) and 0 < b - a <= RANGE_MAX_S:
                times.append((a, b))
                i += 2
                continue
        times.append((a, a))
        i += 1
    return list(dict.fromkeys(times))


# ---------------------------------------------------------------- comments, from files
@dataclass
class Comment:
    text: str
    likes: int = 0
    author: str | None = None
    external_id: str | None = None
    parent_id: str | None = None            # a reply: its thread's (top comment's) id
    published_at: str | None = None         # ISO 8601, as the source gave it

    def __post_init__(self):                # PostgreSQL's text and jsonb hold no NUL
        self.text = self.text.replace("\x00", "")
        self.author = self.author.replace("\x00", "") if isinstance(self.author, str) else self.author

    def row(self) -> dict:
        """What ``db.comments.replace_comments`` stores: this, with its times and a parsed publication time."""
        return {**asdict(self), "published_at": _parse_time(self.published_at), "times": extract_times(self.text)}


def _parse_time(value) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value.strip():
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


_TEXT_KEYS = ("text", "textoriginal", "textdisplay", "comment", "content", "body", "message", "댓글", "내용")
_LIKE_KEYS = ("likes", "likecount", "like_count", "votes", "vote_count", "좋아요")
_AUTHOR_KEYS = ("author", "authordisplayname", "author_name", "user", "username", "작성자")
_ID_KEYS = ("id", "cid", "comment_id", "commentid")
_PARENT_KEYS = ("parent_id", "parentid", "parent")
_TIME_KEYS = ("published_at", "publishedat", "published", "time_parsed", "timestamp", "date")
_MULTIPLIERS = {"k": 1e3, "m": 1e6, "천": 1e3, "만": 1e4}


def parse_likes(value) -> int:
    """``12``, ``"1,234"``, ``"1.2K"``, ``"3만"`` → a count; anything else 0."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, (int, float)):
        return max(0, int(value))
    m = re.fullmatch(r"\s*([\d.,]+)\s*([kKmM천만]?)\s*", str(value))
    if not m:
        return 0
    try:
        number = float(m.group(1).replace(",", ""))
    except ValueError:
        return 0
    return max(0, int(round(number * _MULTIPLIERS.get(m.group(2).lower(), 1))))


def _pick(obj: dict, keys: tuple[str, ...]):
    lowered = {str(k).lower(): v for k, v in obj.items()}
    return next((lowered[k] for k in keys if lowered.get(k) not in (None, "")), None)


def _plain(obj: dict) -> Comment | None:
    text = _pick(obj, _TEXT_KEYS)
    if not isinstance(text, str) or not text.strip():
        return None
    parent = _pick(obj, _PARENT_KEYS)
    return Comment(text=text.strip(), likes=parse_likes(_pick(obj, _LIKE_KEYS)),
                   author=_str(_pick(obj, _AUTHOR_KEYS)), external_id=_str(_pick(obj, _ID_KEYS)),
                   parent_id=None if parent in (None, "root") else str(parent),
                   published_at=_str(_pick(obj, _TIME_KEYS)))


def _str(value) -> str | None:
    return None if value is None else str(value)


def _api_comment(resource: dict, parent_id: str | None = None) -> Comment | None:
    """A ``youtube#comment`` resource."""
    s = resource.get("snippet") or {}
    text = s.get("textOriginal") or s.get("textDisplay") or ""
    if not text.strip():
        return None
    author = s.get("authorDisplayName")
    return Comment(text=text.strip(), likes=parse_likes(s.get("likeCount")), author=author,
                   external_id=resource.get("id"), parent_id=parent_id or s.get("parentId"),
                   published_at=s.get("publishedAt"))


def _api_thread(item: dict, replies: list[dict] | None = None) -> list[Comment]:
    """A ``youtube#commentThread``: its top comment, then its replies (those given, else those it includes)."""
    top = (item.get("snippet") or {}).get("topLevelComment") or {}
    thread_id = item.get("id") or top.get("id")
    if replies is None:
        replies = (item.get("replies") or {}).get("comments") or []
    out = [_api_comment(top)] + [_api_comment(r, thread_id) for r in replies]
    return [c for c in out if c is not None]


def _from_json(data) -> list[Comment]:
    if isinstance(data, dict):
        if isinstance(data.get("items"), list):             # an API response
            return _from_json(data["items"])
        if isinstance(data.get("comments"), list):          # yt-dlp's .info.json, or {"comments": [...]}
            return _from_json(data["comments"])
        snippet = data.get("snippet")
        if isinstance(snippet, dict) and "topLevelComment" in snippet:
            return _api_thread(data)
        if isinstance(snippet, dict):
            return [c for c in [_api_comment(data)] if c]
        return [c for c in [_plain(data)] if c]
    if isinstance(data, list):
        return [c for element in data for c in _from_json(element)]
    if isinstance(data, str) and data.strip():
        return [Comment(text=data.strip())]
    return []


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CommentsError(f"{path} is neither UTF-8 nor CP949 text: save it as UTF-8 and try again.")


def read_comments_file(path: Path) -> list[Comment]:
    """The comments of an exported file (formats: the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise CommentsError(f"Comment file {path} does not exist.")
    text = _decode(path)
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        try:
            return _from_json(json.loads(text))
        except json.JSONDecodeError as err:
            try:                                            # JSON lines
                return _from_json([json.loads(line) for line in text.splitlines() if line.strip()])
            except json.JSONDecodeError:
                raise CommentsError(f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}) "
                                    "nor JSON lines.") from None
    if suffix in (".csv", ".tsv"):
        return _from_csv(text, path)
    return [Comment(text=line.strip()) for line in text.splitlines() if line.strip()]


def _from_csv(text: str, path: Path) -> list[Comment]:
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    columns = [str(c).strip().lower() for c in reader.fieldnames or []]
    if not any(c in _TEXT_KEYS for c in columns):
        raise CommentsError(f"{path}: no text column among {', '.join(reader.fieldnames or []) or 'no columns'}. "
                            f"Name the comments' column one of: {', '.join(_TEXT_KEYS)} (likes: "
                            f"{', '.join(_LIKE_KEYS)}; author: {', '.join(_AUTHOR_KEYS)}).")
    rows = ({str(k).strip(): v for k, v in row.items() if k is not None} for row in reader)
    return [c for c in map(_plain, rows) if c]


# ---------------------------------------------------------------- storing
@dataclass
class CommentsRun:
    """What an import did: the comments stored, then the times they name within the video."""
    video_id: str
    source: str
    comments: int = 0
    with_times: int = 0          # comments naming at least one time within the video
    mentions: int = 0            # times named within the video
    past_end: int = 0            # times past the video's end (ignored)
    resumed_at_page: int = 0     # a YouTube fetch that continued a stopped one: the first page fetched now
    truncated: bool = False      # the fetch stopped at youtube.max_comments


def _store(conn, run: CommentsRun, comments: list[Comment], duration_s: float | None) -> CommentsRun:
    store.replace_comments(conn, run.video_id, run.source, [c.row() for c in comments])
    counts = store.comment_counts(conn, run.video_id, duration_s)
    run.comments, run.with_times = counts["comments"], counts["with_times"]
    run.mentions, run.past_end = counts["mentions"], counts["past_end"]
    return run


def import_comments_file(db, video_id: str, path: Path) -> CommentsRun:
    """Replace the video's comments with those of an exported file."""
    comments = read_comments_file(path)
    with db.connection() as conn:
        video = get_video(conn, video_id)
        return _store(conn, CommentsRun(video_id, "file"), comments, video["duration_s"])


# ---------------------------------------------------------------- comments, from YouTube
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")


def youtube_video_id(value: str) -> str:
    """The 11-character id of a YouTube video, given as such or inside its address (watch?v=, youtu.be/, shorts/,
    live/, embed/)."""
    value = value.strip()
    if _YOUTUBE_ID.fullmatch(value):
        return value
    parts = urlsplit(value if "://" in value else "https://" + value)
    candidates = parse_qs(parts.query).get("v", []) + [p for p in parts.path.split("/") if p][-1:]
    for candidate in candidates:
        if _YOUTUBE_ID.fullmatch(candidate):
            return candidate
    raise CommentsError(f"{value!r} is not a YouTube video id: give the 11 characters after watch?v= in the "
                        "video's address (e.g. dQw4w9WgXcQ), or the address itself.")


def youtube_client(cfg):
    """The YouTube Data API v3 client (the discovery document bundled with the library: no request to build it)."""
    import httplib2
    from googleapiclient.discovery import build

    _hide_key_in_client_logs()
    options = {"api_endpoint": cfg.youtube.api_base_url} if cfg.youtube.api_base_url else None
    return build("youtube", "v3", developerKey=cfg.youtube.api_key, static_discovery=True, cache_discovery=False,
                 http=httplib2.Http(timeout=cfg.youtube.timeout_s), client_options=options)


def _error_reasons(err) -> tuple[set[str], str]:
    try:
        error = json.loads(err.content.decode("utf-8")).get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    items = [e for key in ("errors", "details") for e in (error.get(key) or []) if isinstance(e, dict)]
    message = re.sub(r"<[^>]*>", "", str(error.get("message") or err.resp.reason or ""))     # the quota's has a link
    return {str(e.get("reason")) for e in items if e.get("reason")}, message


def _api_error(err, youtube_id: str) -> CommentsError:
    """One message per kind of refusal, naming the fix. Never the request's address: it carries the key."""
    reasons, message = _error_reasons(err)
    status = err.resp.status
    said = f"(HTTP {status}{', ' + ', '.join(sorted(reasons)) if reasons else ''}: {message})"
    if reasons & {"quotaExceeded", "dailyLimitExceeded", "RATE_LIMIT_EXCEEDED"}:
        return CommentsError(
            f"The YouTube Data API quota of youtube.api_key's Google Cloud project is used up {said}. The daily "
            "quota (10,000 units by default; each page of up to 100 comments costs 1) resets at midnight Pacific "
            "time; a larger one can be requested in the Google Cloud Console.", resumable=True)
    if reasons & {"rateLimitExceeded", "userRateLimitExceeded"} or status == 429:
        return CommentsError(f"YouTube asks for fewer requests at a time {said}: wait a minute.", resumable=True)
    if reasons & {"keyInvalid", "keyExpired", "API_KEY_INVALID", "API_KEY_EXPIRED"} or "api key" in message.lower():
        return CommentsError(
            f"YouTube refused youtube.api_key {said}. Fix: put a valid YouTube Data API v3 key in youtube.api_key in "
            "the config (Google Cloud Console → APIs & Services → Credentials → Create credentials → API key).")
    if reasons & {"accessNotConfigured", "SERVICE_DISABLED"}:
        return CommentsError(
            f"The YouTube Data API v3 is not enabled for the Google Cloud project of youtube.api_key {said}. Fix: "
            "enable it (Google Cloud Console → APIs & Services → Library → YouTube Data API v3).")
    if reasons & {"ipRefererBlocked", "API_KEY_IP_ADDRESS_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED",
                  "API_KEY_SERVICE_BLOCKED"}:
        return CommentsError(f"youtube.api_key may not be used from here {said}. Fix: allow this machine (or the "
                             "YouTube Data API v3) in the key's restrictions, or use another key.")
    if "videoNotFound" in reasons or status == 404:
        return CommentsError(f"YouTube has no video {youtube_id!r} {said}: check the id (the 11 characters after "
                             "watch?v= in its address); private and removed videos are not found either.")
    if "commentsDisabled" in reasons:
        return CommentsError(f"Comments are turned off on YouTube video {youtube_id!r} {said}: there is nothing to "
                             "fetch. An exported file can be imported instead: comments VIDEO FILE.")
    return CommentsError(f"YouTube refused the request {said}.", resumable=status >= 500 or status == 409)


class _HideKey(logging.Filter):
    """googleapiclient logs each retry with the request's address, which carries ``key=``: masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "key=" in text:
            record.msg, record.args = _KEY_PARAM.sub(r"\1[redacted]", text), ()
        return True


_KEY_PARAM = re.compile(r"([?&]key=)[^&\s]+")
_HIDE_KEY = _HideKey()


def _hide_key_in_client_logs() -> None:
    """Every googleapiclient logger (a filter on a logger covers its own records only) masks ``key=``."""
    import googleapiclient.discovery  # noqa: F401 - its modules create their loggers on import
    import googleapiclient.http  # noqa: F401

    for name in list(logging.root.manager.loggerDict):
        logger = logging.getLogger(name)
        if name.split(".")[0] == "googleapiclient" and _HIDE_KEY not in logger.filters:
            logger.addFilter(_HIDE_KEY)


def _execute(request, youtube_id: str, key: str):
    import httplib2
    from googleapiclient.errors import HttpError

    try:
        return request.execute(num_retries=RETRIES)
    except HttpError as err:
        raise _api_error(err, youtube_id) from None
    except (OSError, httplib2.HttpLib2Error) as err:
        raise CommentsError(f"YouTube did not answer ({first_line(err).replace(key, '…')}): check the network "
                            "(and youtube.api_base_url if set).", resumable=True) from None


def _replies(service, thread_id: str, youtube_id: str, key: str) -> list[dict]:
    """Every reply of a thread, when the thread itself includes only some (the API gives at most 5)."""
    out, token = [], None
    while True:
        response = _execute(service.comments().list(part="snippet", parentId=thread_id, maxResults=PAGE_SIZE,
                                                     pageToken=token, textFormat="plainText"), youtube_id, key)
        out += response.get("items") or []
        token = response.get("nextPageToken")
        if not token:
            return out


def _page_comments(service, response: dict, youtube_id: str, key: str) -> list[Comment]:
    comments = []
    for item in response.get("items") or []:
        included = (item.get("replies") or {}).get("comments") or []
        total = int((item.get("snippet") or {}).get("totalReplyCount") or 0)
        replies = _replies(service, item["id"], youtube_id, key) if total > len(included) else None
        comments += _api_thread(item, replies)
    return comments


def fetch_youtube_comments(db, cfg, video_id: str, youtube: str, progress: bool | None = None,
                           restart: bool = False, service=None) -> CommentsRun:
    """Fetch the comments of a YouTube video (replies included) and replace the video's with them.

    Each page is staged with the next page's token as it arrives; a fetch that stops (quota, network, a key
    refused, Ctrl-C) keeps them, and the next call for the same YouTube video continues from there (``restart``:
    start over). Raises ``CommentsError`` saying what was kept and how to continue."""
    youtube_id = youtube_video_id(youtube)
    key = cfg.youtube.api_key
    _hide_key_in_client_logs()
    if not key:
        raise CommentsError("Fetching comments from YouTube needs an API key: set youtube.api_key in the config (a "
                            "YouTube Data API v3 key: Google Cloud Console → APIs & Services → Credentials).")
    limit = cfg.youtube.max_comments
    run = CommentsRun(video_id, "youtube")
    with db.connection() as conn:
        duration_s = get_video(conn, video_id)["duration_s"]
        state = store.fetch_state(conn, video_id)
        if state is not None and state["status"] == "running" and \
                (datetime.now(timezone.utc) - state["updated_at"]).total_seconds() < BUSY_S:
            raise CommentsError(f"Another fetch of this video's comments is running (its last page came "
                                f"{(datetime.now(timezone.utc) - state['updated_at']).total_seconds():.0f} s ago): "
                                "wait for it to finish; a fetch that died is taken over after "
                                f"{BUSY_S // 60} minutes.", resumable=True)
        resume = (not restart and state is not None and state["status"] != "done"
                  and state["youtube_id"] == youtube_id and state["pages"] > 0)
        if resume:
            store.resume_fetch(conn, video_id)
            token, pages, fetched = state["next_page_token"], state["pages"], state["fetched"]
            run.resumed_at_page = pages + 1
        else:
            store.start_fetch(conn, video_id, youtube_id)
            token, pages, fetched = None, 0, 0
    more = pages == 0 or (token is not None and fetched < limit)
    try:
        if more:
            service = service or youtube_client(cfg)
        with tqdm(initial=fetched, desc=f"comments of {youtube_id}", unit=" comments",
                  disable=None if progress is None else not progress) as bar:
            while more:
                check()
                response = _execute(service.commentThreads().list(
                    part="snippet,replies", videoId=youtube_id, maxResults=PAGE_SIZE, pageToken=token,
                    textFormat="plainText"), youtube_id, key)
                comments = _page_comments(service, response, youtube_id, key)
                token = response.get("nextPageToken")
                with db.connection() as conn:
                    fetched = store.stage_page(conn, video_id, [asdict(c) for c in comments], token)
                pages += 1
                bar.update(len(comments))
                more = token is not None and fetched < limit
    except (CommentsError, Stopped) as err:
        kept = (f"{fetched:,} comment(s) of {pages} page(s) fetched so far are kept: run the same command again to "
                f"continue from page {pages + 1}." if pages else "Nothing was fetched yet.")
        with db.connection() as conn:
            store.fetch_stopped(conn, video_id, str(err))
        if isinstance(err, Stopped):
            raise
        raise CommentsError(f"{err} {kept}", resumable=err.resumable) from None
    except BaseException as err:             # anything else: the fetch is not running any more either
        with db.connection() as conn:
            store.fetch_stopped(conn, video_id, first_line(err).replace(key, "…"))
        raise
    run.truncated = token is not None
    with db.connection() as conn:
        comments = [Comment(**c) for c in store.staged_comments(conn, video_id)][:limit]
        _store(conn, run, comments, duration_s)
        store.finish_fetch(conn, video_id)
    return run


# ---------------------------------------------------------------- the command's report
def report(run: CommentsRun, moments: list[dict], top: int = 5) -> str:
    """``comments: 20,000 read (12,345 with times, 15,678 mentions) → 412 moments; top: 10:43 (38 comments, …)``,
    then the top moments one a line."""
    def quote(text: str, n: int = 40) -> str:
        return repr(one_line(text, n))

    head = (f"comments: {run.comments:,} read ({run.with_times:,} with times, {run.mentions:,} mentions"
            + (f"; {run.past_end:,} past the video's end ignored" if run.past_end else "")
            + f") → {len(moments):,} moments")
    if moments:
        m = moments[0]
        head += f"; top: {clock(m['time_s'])} ({m['mentions']} comments, {quote(m['evidence'][0]['text'])})"
    lines = [head]
    if run.resumed_at_page:
        lines.append(f"(continued a stopped fetch from page {run.resumed_at_page})")
    if run.truncated:
        lines.append("(stopped at youtube.max_comments; raise it in the config to fetch more)")
    for m in moments[:top]:
        span = clock(m["start_s"]) + ("" if m["end_s"] - m["start_s"] < 1 else "-" + clock(m["end_s"]))
        lines.append(f"  {span:>17}  {m['mentions']:>4} comments  {m['likes']:>7,} likes  "
                     f"{quote(m['evidence'][0]['text'], 60)}")
    return "\n".join(lines)
