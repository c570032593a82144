-- Key moments of a video found by Gemini (search/summary.py), one row per video, model and request (how many
-- moments, which member, how the timeline was cut into parts). content_hash is the hash of the timeline text that
-- was sent (and of the prompts' version): an edit of the video's segments changes it, so the row no longer answers
-- and is replaced by the next request. The offline ranking is not stored: it is quicker than a lookup.
CREATE TABLE video_summaries (
    video_id     text NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    model        text NOT NULL,
    request      text NOT NULL,
    content_hash text NOT NULL,
    result       jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, model, request)
);
