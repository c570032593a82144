"""Viewer comments: the times they name, the files they come in, the moments they point at, and the
``comments`` command end to end, from a file and from a fake YouTube reached through the real google client."""
from __future__ import annotations

import json
import logging
import random
import time
from pathlib import Path

import pytest

from db.comments import comment_moments, replace_comments
from indexer.cli import main
from indexer.comments import CommentsError, extract_times, parse_likes, read_comments_file, youtube_video_id
from tests.factories import add_video
from tests.indexer.fake_youtube import FakeYouTube

DATA = Path(__file__).parent / "data" / "comments"
YT = "abcdefghijk"


@pytest.mark.parametrize("text, times", [
    ("10:43 legend", [(643, 643)]),
    ("9:05 and 10:43 and 1:02:03", [(545, 545), (643, 643), (3723, 3723)]),
    ("123:45 in a long stream", [(7425, 7425)]),
    ("1:02-1:10 best part", [(62, 70)]),
    ("1:02 ~ 1:10", [(62, 70)]),
    ("1:02–1:10, 1:02:03 — 1:02:30", [(62, 70), (3723, 3750)]),
    ("1:10-1:02 backwards are two times", [(70, 70), (62, 62)]),
    ("0:00 - 15:00 is too long for a range", [(0, 0), (900, 900)]),
    ("1:02 1:02 1:02!!! once", [(62, 62)]),
    ("score 2:1, a 16:9 screen, 1:2:3 nothing", []),
    ("오후 3:30에 봤어요, at 10:30 pm", []),
    ("3분 15초 미쳤다", [(195, 195)]),
    ("3분 여기", [(180, 180)]),
    ("1시간 2분 3초 앵콜", [(3723, 3723)]),
    ("3분15초~3분30초 후렴", [(195, 210)]),
    ("3분 15초부터 3분 30초까지", [(195, 210)]),
    ("2분 30초 후렴 미쳤다, 4분 간주도", [(150, 150), (240, 240)]),
    ("3분 동안 웃었다, 5분만에 끝남, 10분 전에 올라옴, 3분의 1, 두분 15초만에", []),
    ("15초 is a duration, not a time", []),
    ("https://youtu.be/abcdefghijk?t=95 and https://www.youtube.com/watch?v=abcdefghijk&t=1m30s", [(95, 95), (90, 90)]),
    ("여기 https://youtu.be/abcdefghijk?t=2612s, 최고", [(2612, 2612)]),           # punctuation after a link
    ("https://example.com/12:34/x nothing in links", []),
    ("1m30s is funny", [(90, 90)]),
    ("no times at all ❤️", []),
])
def test_extract_times(text, times):
    assert extract_times(text) == [(float(a), float(b)) for a, b in times]


def test_likes_in_every_form():
    assert [parse_likes(v) for v in (12, "1,234", "1.2K", "3M", "1.2천", "3만", None, "n/a", -4)] == [
        12, 1234, 1200, 3_000_000, 1200, 30000, 0, 0, 0]


def test_youtube_ids_and_addresses():
    for given in (YT, f"https://www.youtube.com/watch?v={YT}&t=10", f"youtu.be/{YT}", f"https://youtube.com/shorts/{YT}"):
        assert youtube_video_id(given) == YT
    with pytest.raises(CommentsError, match="watch\\?v="):
        youtube_video_id("not an id")


# ---------------------------------------------------------------- files
def test_json_file_of_comment_objects():
    comments = read_comments_file(DATA / "en.json")
    assert len(comments) == 12
    first = comments[0]
    assert (first.text, first.likes, first.author, first.external_id) == ("10:43 legend moment", 120, "@amy", "a")
    by_id = {c.external_id: c for c in comments}
    assert by_id["b"].likes == 30 and by_id["b"].author == "@ben"        # likeCount, authorDisplayName
    assert by_id["d"].likes == 1200                                      # "1.2K"
    assert by_id["l"].parent_id == "a" and by_id["l"].likes == 4          # a reply; votes


def test_csv_file_in_korean_and_in_excel_cp949(tmp_path):
    comments = read_comments_file(DATA / "ko.csv")
    assert [(c.text, c.likes, c.author) for c in comments[:3]] == [
        ("10분 43초 레전드", 300, "민지"), ("3분 15초~3분 30초 후렴 미쳤다", 40, "하니"),
        ("1시간 2분 3초 앵콜 무대", 1200, "다니엘")]
    assert comments[-1].text == "3분 20초, 3분 25초 둘 다 좋음"
    excel = tmp_path / "excel.csv"
    excel.write_bytes((DATA / "ko.csv").read_text(encoding="utf-8").encode("cp949"))
    assert [c.text for c in read_comments_file(excel)] == [c.text for c in comments]
    headless = tmp_path / "bad.csv"
    headless.write_text("who,when\nx,1\n", encoding="utf-8")
    with pytest.raises(CommentsError, match="no text column among who, when"):
        read_comments_file(headless)


def test_text_file_one_comment_per_line(tmp_path):
    assert [c.text for c in read_comments_file(DATA / "plain.txt")] == [
        "10:43 legend", "3분 15초 여기 최고", "just a comment without any time", "1:02-1:10 and 10:44 too"]
    odd = tmp_path / "odd.txt"                    # PostgreSQL holds no NUL character
    odd.write_text("a\x00b 1:00\n", encoding="utf-8")
    assert [c.text for c in read_comments_file(odd)] == ["ab 1:00"]


def test_youtube_api_dumps_json_lines_and_yt_dlp(tmp_path):
    comments = read_comments_file(DATA / "api_dump.json")
    assert [(c.text, c.external_id, c.parent_id, c.likes) for c in comments] == [
        ("4:20 the dance break", "Ugz1", None, 9), ("yes 4:21!!", "Ugz1.r1", "Ugz1", 2),
        ("최고의 무대 ❤️", "Ugz2", None, 1)]
    lines = tmp_path / "downloader.json"          # youtube-comment-downloader: one object a line
    lines.write_text('{"cid": "x1", "text": "0:42 lol", "votes": "1.5K", "author": "@a", "time_parsed": 1.7e9}\n'
                     '{"cid": "x1.y", "text": "same", "votes": "0", "author": "@b", "reply": true}\n', encoding="utf-8")
    got = read_comments_file(lines)
    assert [(c.text, c.likes, c.external_id) for c in got] == [("0:42 lol", 1500, "x1"), ("same", 0, "x1.y")]
    info = tmp_path / "video.info.json"           # yt-dlp --write-comments
    info.write_text(json.dumps({"id": YT, "comments": [
        {"id": "c1", "text": "1:00 hi", "like_count": 3, "author": "@c", "parent": "root", "timestamp": 1.7e9},
        {"id": "c2", "text": "reply", "like_count": 0, "author": "@d", "parent": "c1"}]}), encoding="utf-8")
    assert [(c.external_id, c.parent_id, c.likes) for c in read_comments_file(info)] == [
        ("c1", None, 3), ("c2", "c1", 0)]
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    with pytest.raises(CommentsError, match="not valid JSON"):
        read_comments_file(broken)


# ---------------------------------------------------------------- moments
def _import(db, video_id: str, path: Path) -> None:
    from indexer.comments import import_comments_file

    import_comments_file(db, video_id, path)


def test_moments_group_weigh_by_likes_and_keep_evidence(db):
    with db.connection() as conn:
        add_video(conn, "v1", duration_s=4000)           # 1:06:40: 99:00 is past the end
    _import(db, "v1", DATA / "en.json")
    with db.connection() as conn:
        moments = comment_moments(conn, "v1", 4000)
    top = moments[0]
    # 0:10:41 (a YouTube link), 10:43 and 10:45 chain into one moment; the most liked comments are its evidence
    assert (top["start_s"], top["end_s"], top["mentions"], top["likes"]) == (641, 645, 3, 153)
    assert 642 < top["time_s"] < 644                      # pulled towards the liked 10:43
    assert [e["author"] for e in top["evidence"]] == ["@amy", "@ben", "@cy"]
    assert top["evidence"][0] == {"text": "10:43 legend moment", "likes": 120, "author": "@amy"}
    assert moments[1]["start_s"] == 3723 and moments[1]["likes"] == 1200
    # the range 1:02-1:10 and the 1:05 inside it are one moment covering the range
    ranged = next(m for m in moments if m["start_s"] == 62)
    assert (ranged["end_s"], ranged["mentions"]) == (70, 2)
    # 99:00 is past the end; the chapter list gives each of its 20 times a twentieth of one plain comment
    assert all(m["start_s"] <= 4000 for m in moments)
    spam = [m for m in moments if 1200 <= m["start_s"] <= 2340]
    assert len(spam) == 20 and all(m["weight"] == pytest.approx(1 / 20) for m in spam)
    assert moments[-1]["weight"] == pytest.approx(1 / 20)
    plain = next(m for m in moments if m["start_s"] == 90)   # one reply, 4 likes
    assert plain["weight"] == pytest.approx(1 + __import__("math").log1p(4))
    assert [m["weight"] for m in moments] == sorted((m["weight"] for m in moments), reverse=True)
    assert len(moments) == 26
    # Korean comments in the same shape; duration None keeps everything (the 2-hour mention too)
    _import(db, "v1", DATA / "ko.csv")
    with db.connection() as conn:
        ko = comment_moments(conn, "v1", 4000)
        everything = comment_moments(conn, "v1", None)
    assert [(m["start_s"], m["end_s"], m["mentions"]) for m in ko] == [(643, 644, 2), (3723, 3723, 1), (195, 210, 2)]
    assert ko[2]["evidence"][0]["author"] == "하니"
    assert len(everything) == 4


def test_comment_moments_of_20000_comments_within_a_second(db):
    """20,000 comments on a 2-hour video, a third of them naming times (some ranges, some chapter lists)."""
    rng = random.Random(7)
    hot = [rng.uniform(0, 7200) for _ in range(40)]
    comments = []
    for i in range(20_000):
        kind = i % 3
        if kind == 0:
            t = rng.choice(hot) + rng.gauss(0, 3) if rng.random() < 0.7 else rng.uniform(0, 7300)
            times = [(max(0.0, t), max(0.0, t) + (rng.choice([0, 0, 0, 8])))]
        elif kind == 1 and i % 30 == 1:
            times = [(60.0 * k, 60.0 * k) for k in range(20)]
        else:
            times = []
        comments.append({"text": f"comment {i}", "likes": int(rng.paretovariate(1.2)) - 1, "author": f"@u{i % 500}",
                         "times": times})
    with db.connection() as conn:
        add_video(conn, "long", duration_s=7200)
        replace_comments(conn, "long", "file", comments)
    with db.connection() as conn:
        comment_moments(conn, "long", 7200)                  # warm
        start = time.perf_counter()
        moments = comment_moments(conn, "long", 7200)
        took = time.perf_counter() - start
    print(f"comment_moments: 20,000 comments, {len(moments)} moments in {took * 1000:.0f} ms")
    assert took < 1.0
    assert sum(m["mentions"] for m in moments[:40]) > 3000


# ---------------------------------------------------------------- the command
def test_command_imports_a_file_and_a_second_import_replaces_it(write_config, db, capsys):
    with db.connection() as conn:
        add_video(conn, "v1", duration_s=4000)
    cfg = str(write_config())
    assert main(["comments", "v1", str(DATA / "en.json"), "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert out.startswith("comments: 12 read (9 with times, 29 mentions; 1 past the video's end ignored) → 26 moments; "
                          "top: 10:43 (3 comments, '10:43 legend moment')")
    assert main(["comments", "v1", str(DATA / "plain.txt"), "--config", cfg]) == 0
    assert "comments: 4 read (3 with times, 4 mentions) → 3 moments; top: 10:43 (2 comments" in capsys.readouterr().out
    with db.connection() as conn:
        rows = conn.execute("SELECT source, count(*) AS n FROM comments GROUP BY source").fetchall()
    assert [(r["source"], r["n"]) for r in rows] == [("file", 4)]


def test_command_usage_and_unknown_video(write_config, db, capsys):
    cfg = str(write_config())
    assert main(["comments", "nope", str(DATA / "plain.txt"), "--config", cfg]) == 2
    assert "no video named 'nope'" in capsys.readouterr().err
    with db.connection() as conn:
        add_video(conn, "v1")
        add_video(conn, "v2", title="Spring Showcase")
    assert main(["comments", "spring showcase", str(DATA / "plain.txt"), "--config", cfg]) == 0   # a title works
    assert "comments: 4 read" in capsys.readouterr().out
    assert main(["comments", "v1", "--config", cfg]) == 2
    assert main(["comments", "v1", str(DATA / "plain.txt"), "--youtube", YT, "--config", cfg]) == 2
    assert "either a FILE or --youtube" in capsys.readouterr().err
    assert main(["comments", "v1", str(DATA / "missing.json"), "--config", cfg]) == 2
    assert "does not exist" in capsys.readouterr().err


def _threads(n: int, replies_on: int = 1, replies: int = 7, tag: str = "") -> list[dict]:
    out = []
    for i in range(n):
        out.append({"id": f"T{tag}{i}", "text": f"{i}:30 moment {tag}{i}", "likes": i, "author": f"@a{i}",
                    "replies": [{"text": f"yes {i}:3{j % 4}", "likes": j, "author": f"@r{j}"}
                                for j in range(replies)] if i == replies_on else []})
    return out


@pytest.fixture
def fake_youtube():
    with FakeYouTube({YT: _threads(7)}, key="test-key", page_size=2, disabled=("disabledxxx",)) as fake:
        yield fake


def test_youtube_fetch_pages_and_replies_through_the_real_client(write_config, db, fake_youtube, capsys):
    with db.connection() as conn:
        add_video(conn, "v1", duration_s=600)
    cfg = str(write_config(youtube={"api_key": "test-key", "api_base_url": fake_youtube.url}))
    assert main(["comments", "v1", "--youtube", f"https://www.youtube.com/watch?v={YT}", "--config", cfg,
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("comments: 14 read (14 with times, 14 mentions) → 7 moments; top: 1:31 (8 comments")
    # 4 pages of 2 threads; the thread with 7 replies (5 included) had its replies paged through comments.list
    assert [p.get("pageToken") for p in fake_youtube.thread_requests()] == [None, "p2", "p4", "p6"]
    assert all(p["part"] == "snippet,replies" and p["textFormat"] == "plainText" and p["maxResults"] == "100"
               for p in fake_youtube.thread_requests())
    assert [p.get("pageToken") for path, p in fake_youtube.requests if path.endswith("/comments")] == [
        None, "p2", "p4", "p6"]
    with db.connection() as conn:
        rows = conn.execute("SELECT external_id, parent_id, author, likes, source, published_at FROM comments "
                            "ORDER BY id").fetchall()
        fetch = conn.execute("SELECT status, pages, fetched FROM comment_fetches").fetchone()
        staged = conn.execute("SELECT count(*) AS n FROM comment_fetch_pages").fetchone()["n"]
    assert len(rows) == 14 and {r["source"] for r in rows} == {"youtube"}
    assert [r["external_id"] for r in rows if r["parent_id"] == "T1"] == [f"T1.r{j}" for j in range(7)]
    assert rows[0]["published_at"].year == 2025
    assert (fetch["status"], fetch["pages"], fetch["fetched"], staged) == ("done", 4, 14, 0)

    # A finished fetch is not resumed: the next one starts over and replaces the comments.
    fake_youtube.videos[YT] = _threads(3, replies_on=-1, tag="n")
    before = len(fake_youtube.thread_requests())
    assert main(["comments", "v1", "--youtube", YT, "--config", cfg, "--no-progress"]) == 0
    assert [p.get("pageToken") for p in fake_youtube.thread_requests()[before:]] == [None, "p2"]
    with db.connection() as conn:
        texts = [r["text"] for r in conn.execute("SELECT text FROM comments ORDER BY id")]
    assert texts == ["0:30 moment n0", "1:30 moment n1", "2:30 moment n2"]


def test_quota_stops_a_fetch_and_the_same_command_resumes_it(write_config, db, fake_youtube, capsys):
    with db.connection() as conn:
        add_video(conn, "v1", duration_s=600)
    cfg = str(write_config(youtube={"api_key": "test-key", "api_base_url": fake_youtube.url}))
    args = ["comments", "v1", "--youtube", YT, "--config", cfg, "--no-progress"]
    fake_youtube.quota = 6          # page 1 (1 + 4 reply pages) and page 2; the third page is refused
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "quota" in err and "quotaExceeded" in err and "<a href" not in err
    assert ("11 comment(s) of 2 page(s) fetched so far are kept: run the same command again to continue from page 3"
            in err)
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM comments").fetchone()["n"] == 0     # nothing replaced yet
        fetch = conn.execute("SELECT status, next_page_token, last_error FROM comment_fetches").fetchone()
    assert fetch["status"] == "stopped" and fetch["next_page_token"] == "p4" and "quota" in fetch["last_error"]

    fake_youtube.quota = None
    before = len(fake_youtube.requests)
    assert main(args) == 0
    assert "(continued a stopped fetch from page 3)" in capsys.readouterr().out
    again = fake_youtube.requests[before:]
    assert [(path.rsplit("/", 1)[1], p.get("pageToken")) for path, p in again] == [
        ("commentThreads", "p4"), ("commentThreads", "p6")]                  # nothing fetched twice
    with db.connection() as conn:
        ids = [r["external_id"] for r in conn.execute("SELECT external_id FROM comments ORDER BY id")]
    assert len(ids) == 14 and len(set(ids)) == 14 and ids[:2] == ["T0", "T1"]


def test_youtube_refusals_name_the_fix(write_config, db, fake_youtube, capsys):
    with db.connection() as conn:
        add_video(conn, "v1", duration_s=600)

    def run(key: str | None, youtube: str = YT) -> tuple[int, str]:
        cfg = str(write_config(youtube={"api_key": key, "api_base_url": fake_youtube.url}))
        code = main(["comments", "v1", "--youtube", youtube, "--config", cfg, "--no-progress"])
        return code, capsys.readouterr().err

    code, err = run(None)
    assert code == 2 and "set youtube.api_key in the config" in err
    code, err = run("sekrit-key-123")
    assert code == 2 and "YouTube refused youtube.api_key" in err and "API_KEY_INVALID" in err
    assert "sekrit-key-123" not in err
    code, err = run("test-key", "zzzzzzzzzzz")
    assert code == 2 and "YouTube has no video 'zzzzzzzzzzz'" in err and "videoNotFound" in err
    code, err = run("test-key", "disabledxxx")
    assert code == 2 and "Comments are turned off" in err and "comments VIDEO FILE" in err
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM comments").fetchone()["n"] == 0


def test_retries_after_a_server_hiccup_never_log_the_key(write_config, db, fake_youtube, capsys, caplog):
    with db.connection() as conn:
        add_video(conn, "v1", duration_s=600)
    cfg = str(write_config(youtube={"api_key": "test-key", "api_base_url": fake_youtube.url}))
    fake_youtube.unavailable = 1                     # one 503: the client waits and asks again
    with caplog.at_level(logging.DEBUG):
        assert main(["comments", "v1", "--youtube", YT, "--config", cfg, "--no-progress"]) == 0
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert retries and all("key=[redacted]" in m for m in retries)
    assert not any("test-key" in r.getMessage() for r in caplog.records)
    assert "test-key" not in capsys.readouterr().err


def test_a_second_fetch_while_one_runs_is_refused(write_config, db, fake_youtube, capsys):
    from db.comments import start_fetch

    with db.connection() as conn:
        add_video(conn, "v1", duration_s=600)
        start_fetch(conn, "v1", YT)                   # a fetch under way (it staged a page just now)
    cfg = str(write_config(youtube={"api_key": "test-key", "api_base_url": fake_youtube.url}))
    assert main(["comments", "v1", "--youtube", YT, "--config", cfg, "--no-progress"]) == 1
    assert "Another fetch of this video's comments is running" in capsys.readouterr().err
    assert fake_youtube.requests == []
