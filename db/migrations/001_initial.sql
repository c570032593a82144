-- Initial schema. Embedding columns are created without a dimension; the first time an embedding model
-- is recorded (db.embeddings.ensure_embedding_model) segments.embedding is fixed to that model's
-- dimension and its HNSW index is built.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE videos (
    id          text PRIMARY KEY,
    title       text NOT NULL,
    path        text,
    file_size   bigint,
    file_mtime  double precision,
    duration_s  double precision,
    fps         double precision,
    width       integer,
    height      integer,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'indexing', 'indexed', 'failed')),
    error       text,
    source      text NOT NULL DEFAULT 'indexer',
    shot_boundaries double precision[] NOT NULL DEFAULT '{}',
    indexed_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE members (
    id          serial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    group_name  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- normalized: lower-cased, whitespace removed; what query understanding matches against.
CREATE TABLE member_aliases (
    member_id   integer NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    alias       text NOT NULL,
    normalized  text NOT NULL,
    PRIMARY KEY (member_id, normalized)
);
CREATE INDEX member_aliases_normalized ON member_aliases (normalized);

CREATE TABLE member_faces (
    id          bigserial PRIMARY KEY,
    member_id   integer NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    model       text NOT NULL,
    embedding   vector NOT NULL,
    source      text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX member_faces_member ON member_faces (member_id);

CREATE TABLE segments (
    id              bigserial PRIMARY KEY,
    video_id        text NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    start_s         double precision NOT NULL CHECK (start_s >= 0),
    end_s           double precision NOT NULL,
    caption_auto    text,
    caption_edited  text,
    caption_ko      text,
    transcript      text,
    search_text     text NOT NULL DEFAULT '',
    tsv             tsvector NOT NULL DEFAULT ''::tsvector,
    embedding       vector,
    thumbnail       text,
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (end_s > start_s)
);
CREATE INDEX segments_video_start ON segments (video_id, start_s);
CREATE INDEX segments_tsv ON segments USING gin (tsv);

CREATE TABLE segment_members (
    segment_id  bigint NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    member_id   integer NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    confidence  real,
    source      text NOT NULL DEFAULT 'auto' CHECK (source IN ('auto', 'manual')),
    PRIMARY KEY (segment_id, member_id)
);
CREATE INDEX segment_members_member ON segment_members (member_id);

-- Every face the indexer saw, matched or not, so members can be re-tagged without decoding video again.
CREATE TABLE face_detections (
    id          bigserial PRIMARY KEY,
    video_id    text NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    t_s         double precision NOT NULL,
    bbox        real[] NOT NULL,
    det_score   real,
    model       text NOT NULL,
    embedding   vector NOT NULL,
    member_id   integer REFERENCES members(id) ON DELETE SET NULL,
    similarity  real
);
CREATE INDEX face_detections_video_t ON face_detections (video_id, t_s);

-- One row per operation; before/after hold full snapshots of every segment touched (with members),
-- enough to revert merge and split.
CREATE TABLE segment_history (
    id          bigserial PRIMARY KEY,
    video_id    text NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    operation   text NOT NULL,
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    segment_ids bigint[] NOT NULL DEFAULT '{}',
    before      jsonb NOT NULL DEFAULT '[]',
    after       jsonb NOT NULL DEFAULT '[]',
    reverts     bigint REFERENCES segment_history(id),
    reverted_by bigint REFERENCES segment_history(id)
);
CREATE INDEX segment_history_video ON segment_history (video_id, id DESC);
CREATE INDEX segment_history_segments ON segment_history USING gin (segment_ids);

CREATE TABLE translations (
    source_hash text NOT NULL,
    model       text NOT NULL,
    target_lang text NOT NULL,
    source_text text NOT NULL,
    translated  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_hash, model, target_lang)
);
