"""Viewer comments of a video and the times they name (``python -m indexer comments``; ``indexer/comments.py``
reads and fetches them, this module stores them and turns the times into moments).

A video's comments are replaced as a whole, in the caller's transaction, by each import: a re-fetch or another file
leaves no comment of the previous one. Each time a comment names is a row of ``comment_mentions`` with the comment's
share of weight: ``(1 + ln(1 + likes)) / stamps``, where ``stamps`` counts the distinct times the comment names (past
the video's end included). A liked comment counts for more, but slowly (1000 likes ≈ 8 plain comments), and a
comment listing twenty times ("chapters", spam) weighs no more in all than one naming a single time.

A YouTube fetch is paged (100 threads a page) and can stop half-way (quota, network, Ctrl-C). Each page is staged
(``comment_fetch_pages``) together with the token of the next one in its own transaction, so re-running the command
continues from the page it stopped at; finishing moves the staged comments into ``comments`` (``replace_comments``)
and drops the pages.
"""
from __future__ import annotations

import math

import psycopg
from psycopg.types.json import Jsonb

COPY_COMMENTS = ("COPY comments (id, video_id, source, external_id, parent_id, author, text, likes, published_at, "
                 "stamps) FROM STDIN")
COPY_MENTIONS = "COPY comment_mentions (video_id, comment_id, start_s, end_s, weight) FROM STDIN"
EVIDENCE_CHARS = 300        # evidence texts are cut to this many characters


def comment_weight(likes: int) -> float:
    """What one comment weighs in all, shared among the times it names."""
    return 1.0 + math.log1p(max(0, likes))


def _clean(value: str | None) -> str | None:
    return None if value is None else value.replace("\x00", "")     # PostgreSQL text holds no NUL


def replace_comments(conn: psycopg.Connection, video_id: str, source: str, comments: list[dict]) -> dict:
    """Replace the video's comments and mentions with ``comments``: dicts of ``text``, ``likes``, ``author``,
    ``external_id``, ``parent_id``, ``published_at`` (datetime or None) and ``times``, the ``(start_s, end_s)``
    pairs the text names (``indexer.comments.extract_times``). Returns ``{"comments", "mentions"}`` counts.
    Written with COPY: 20,000 comments take a fraction of a second."""
    conn.execute("DELETE FROM comment_mentions WHERE video_id = %s", (video_id,))
    conn.execute("DELETE FROM comments WHERE video_id = %s", (video_id,))
    if not comments:
        return {"comments": 0, "mentions": 0}
    ids = [r["id"] for r in conn.execute(
        "SELECT nextval(pg_get_serial_sequence('comments', 'id')) AS id FROM generate_series(1, %s)",
        (len(comments),)).fetchall()]
    mentions = 0
    with conn.cursor() as cur:
        with cur.copy(COPY_COMMENTS) as copy:
            for comment_id, c in zip(ids, comments, strict=True):
                times = list(dict.fromkeys(c.get("times") or ()))
                copy.write_row((comment_id, video_id, source, c.get("external_id"), c.get("parent_id"),
                                _clean(c.get("author")), _clean(c["text"]), max(0, int(c.get("likes") or 0)),
                                c.get("published_at"), len(times)))
        with cur.copy(COPY_MENTIONS) as copy:
            for comment_id, c in zip(ids, comments, strict=True):
                times = list(dict.fromkeys(c.get("times") or ()))
                share = comment_weight(int(c.get("likes") or 0)) / len(times) if times else 0.0
                for start, end in times:
                    copy.write_row((video_id, comment_id, float(start), float(end), share))
                mentions += len(times)
    return {"comments": len(comments), "mentions": mentions}


def comment_counts(conn: psycopg.Connection, video_id: str, duration_s: float | None = None) -> dict:
    """``{"comments", "source", "with_times", "mentions", "past_end"}`` of the video's stored comments: mentions
    within the video (``duration_s``; None: all) and those starting past its end (ignored by the moments)."""
    return conn.execute(
        "SELECT (SELECT count(*) FROM comments WHERE video_id = %(v)s) AS comments, "
        "(SELECT min(source) FROM comments WHERE video_id = %(v)s) AS source, "
        "count(DISTINCT comment_id) FILTER (WHERE start_s <= %(d)s) AS with_times, "
        "count(*) FILTER (WHERE start_s <= %(d)s) AS mentions, "
        "count(*) FILTER (WHERE start_s > %(d)s) AS past_end "
        "FROM comment_mentions WHERE video_id = %(v)s",
        {"v": video_id, "d": math.inf if duration_s is None else duration_s}).fetchone()


# Mentions ordered by start; one whose start lies more than group_s past the furthest end before it begins a new
# moment (so overlapping ranges and stamps a few seconds apart chain into one). Ranges reaching past the end are cut
# there; mentions starting past it are left out.
_MOMENTS_SQL = """
WITH m AS (
    SELECT comment_id, start_s, least(end_s, %(d)s) AS end_s, weight
    FROM comment_mentions WHERE video_id = %(v)s AND start_s <= %(d)s
), flagged AS (
    SELECT *, coalesce(start_s - max(end_s) OVER before > %(g)s, true)::int AS starts_moment
    FROM m WINDOW before AS (ORDER BY start_s, end_s, comment_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), grouped AS (
    SELECT *, sum(starts_moment) OVER (ORDER BY start_s, end_s, comment_id ROWS UNBOUNDED PRECEDING) AS moment
    FROM flagged
), moments AS (
    SELECT moment, min(start_s) AS start_s, max(end_s) AS end_s, sum(weight) AS weight,
           sum(weight * (start_s + end_s) / 2) / sum(weight) AS time_s
    FROM grouped GROUP BY moment
), ranked AS (
    SELECT p.moment, c.likes, c.text, c.author,
           row_number() OVER (PARTITION BY p.moment ORDER BY c.likes DESC, c.id) AS rank
    FROM (SELECT DISTINCT moment, comment_id FROM grouped) p JOIN comments c ON c.id = p.comment_id
), evidence AS (
    SELECT moment, count(*) AS mentions, sum(likes) AS likes,
           jsonb_agg(jsonb_build_object('text', left(text, %(chars)s), 'likes', likes, 'author', author)
                     ORDER BY rank) FILTER (WHERE rank <= 3) AS evidence
    FROM ranked GROUP BY moment
)
SELECT m.time_s, m.start_s, m.end_s, e.mentions, e.likes, m.weight, e.evidence
FROM moments m JOIN evidence e USING (moment)
ORDER BY m.weight DESC, m.time_s
LIMIT %(limit)s
"""


def comment_moments(conn: psycopg.Connection, video_id: str, duration_s: float | None, group_s: float = 5.0,
                    limit: int | None = None) -> list[dict]:
    """The moments viewers' comments point at, heaviest first: mentions within ``group_s`` seconds of each other
    chain into one. Each is ``{"time_s": weighted centre, "start_s", "end_s": the span its mentions cover (a range
    1:02-1:10 covers 62-70), "mentions": distinct comments, "likes": their sum, "weight": float, "evidence": up to 3
    {"text", "likes", "author"}, most liked first}``. Mentions past ``duration_s`` are ignored (None: none are)."""
    rows = conn.execute(_MOMENTS_SQL, {"v": video_id, "d": math.inf if duration_s is None else float(duration_s),
                                       "g": float(group_s), "chars": EVIDENCE_CHARS, "limit": limit}).fetchall()
    return [{"time_s": float(r["time_s"]), "start_s": float(r["start_s"]), "end_s": float(r["end_s"]),
             "mentions": int(r["mentions"]), "likes": int(r["likes"]), "weight": float(r["weight"]),
             "evidence": r["evidence"]} for r in rows]


# ---------------------------------------------------------------- a YouTube fetch, resumable
def fetch_state(conn: psycopg.Connection, video_id: str) -> dict | None:
    """The video's last fetch: ``youtube_id``, ``status`` ('running', 'stopped', 'done'), ``next_page_token``,
    ``pages``, ``fetched`` (comments staged so far), ``last_error``, ``updated_at``; None if it never had one."""
    return conn.execute("SELECT youtube_id, status, next_page_token, pages, fetched, last_error, updated_at "
                        "FROM comment_fetches WHERE video_id = %s FOR UPDATE", (video_id,)).fetchone()


def start_fetch(conn: psycopg.Connection, video_id: str, youtube_id: str) -> None:
    """A fresh fetch from the first page: what an earlier one staged is dropped."""
    conn.execute("DELETE FROM comment_fetch_pages WHERE video_id = %s", (video_id,))
    conn.execute(
        "INSERT INTO comment_fetches (video_id, youtube_id, status) VALUES (%s, %s, 'running') "
        "ON CONFLICT (video_id) DO UPDATE SET youtube_id = EXCLUDED.youtube_id, status = 'running', "
        "next_page_token = NULL, pages = 0, fetched = 0, last_error = NULL, started_at = now(), updated_at = now()",
        (video_id, youtube_id))


def resume_fetch(conn: psycopg.Connection, video_id: str) -> None:
    conn.execute("UPDATE comment_fetches SET status = 'running', updated_at = now() WHERE video_id = %s",
                 (video_id,))


def stage_page(conn: psycopg.Connection, video_id: str, comments: list[dict], next_page_token: str | None) -> int:
    """Keep one fetched page (comments as JSON-able dicts) and the token of the page after it; returns the number
    of comments staged so far."""
    row = conn.execute(
        "UPDATE comment_fetches SET pages = pages + 1, fetched = fetched + %s, next_page_token = %s, "
        "updated_at = now() WHERE video_id = %s RETURNING pages, fetched",
        (len(comments), next_page_token, video_id)).fetchone()
    conn.execute("INSERT INTO comment_fetch_pages (video_id, page, comments) VALUES (%s, %s, %s)",
                 (video_id, row["pages"], Jsonb(comments)))
    return row["fetched"]


def fetch_stopped(conn: psycopg.Connection, video_id: str, error: str) -> None:
    conn.execute("UPDATE comment_fetches SET status = 'stopped', last_error = %s, updated_at = now() "
                 "WHERE video_id = %s", (error[:2000], video_id))


def staged_comments(conn: psycopg.Connection, video_id: str) -> list[dict]:
    """Every comment staged by the video's fetch, page by page."""
    rows = conn.execute("SELECT c FROM comment_fetch_pages p, jsonb_array_elements(p.comments) WITH ORDINALITY "
                        "AS e(c, n) WHERE p.video_id = %s ORDER BY p.page, e.n", (video_id,)).fetchall()
    return [r["c"] for r in rows]


def finish_fetch(conn: psycopg.Connection, video_id: str) -> None:
    """The fetch is done (its comments replaced the video's in this transaction): drop its pages."""
    conn.execute("DELETE FROM comment_fetch_pages WHERE video_id = %s", (video_id,))
    conn.execute("UPDATE comment_fetches SET status = 'done', next_page_token = NULL, last_error = NULL, "
                 "updated_at = now() WHERE video_id = %s", (video_id,))

