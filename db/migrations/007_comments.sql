-- Viewer comments, a signal for a video's best moments (``python -m indexer comments``; db/comments.py).
--   comments          a video's comments as last imported, from YouTube or an exported file: one import replaces
--                     them all, in one transaction. external_id / parent_id are the source's ids (YouTube's comment
--                     ids; a reply names its thread's top comment), NULL where a file has none.
--                     stamps: how many distinct times the comment names, past the video's end included.
--   comment_mentions  the times named, one row each (a range 1:02-1:10 is start_s 62, end_s 70), kept apart from
--                     the text so that grouping a video's mentions is one index range scan. weight is the comment's
--                     share: (1 + ln(1 + likes)) / stamps, so a list of 20 times gives each a twentieth.
--   comment_fetches   a YouTube fetch in progress or stopped (quota, network, Ctrl-C): the next page token, with the
--                     comments fetched so far staged page by page in comment_fetch_pages. Re-running resumes from
--                     there; the finished fetch replaces the video's comments and drops its pages.
CREATE TABLE comments (
    id            bigserial PRIMARY KEY,
    video_id      text NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    source        text NOT NULL CHECK (source IN ('youtube', 'file')),
    external_id   text,
    parent_id     text,
    author        text,
    text          text NOT NULL,
    likes         integer NOT NULL DEFAULT 0 CHECK (likes >= 0),
    published_at  timestamptz,
    stamps        integer NOT NULL DEFAULT 0 CHECK (stamps >= 0)
);
CREATE INDEX comments_video ON comments (video_id);

CREATE TABLE comment_mentions (
    video_id    text NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    comment_id  bigint NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    start_s     double precision NOT NULL CHECK (start_s >= 0),
    end_s       double precision NOT NULL CHECK (end_s >= start_s),
    weight      double precision NOT NULL CHECK (weight > 0)
);
CREATE INDEX comment_mentions_video_start ON comment_mentions (video_id, start_s);
CREATE INDEX comment_mentions_comment ON comment_mentions (comment_id);

CREATE TABLE comment_fetches (
    video_id         text PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
    youtube_id       text NOT NULL,
    status           text NOT NULL CHECK (status IN ('running', 'stopped', 'done')),
    next_page_token  text,
    pages            integer NOT NULL DEFAULT 0,
    fetched          integer NOT NULL DEFAULT 0,
    last_error       text,
    started_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE comment_fetch_pages (
    video_id  text NOT NULL REFERENCES comment_fetches(video_id) ON DELETE CASCADE,
    page      integer NOT NULL,
    comments  jsonb NOT NULL,
    PRIMARY KEY (video_id, page)
);
