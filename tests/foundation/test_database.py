import numpy as np
import psycopg
import pytest

from core.errors import EmbeddingModelMismatch
from db import Database
from db.embeddings import ensure_embedding_model, recorded_embedding_model
from db.migrate import apply_migrations, migration_files
from db.segments import get_segments, refresh_search_fields


def test_migrations_recorded_and_rerun_is_a_no_op(database_url):
    with psycopg.connect(database_url) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
        assert names == [p.name for p in migration_files()]
        assert apply_migrations(conn) == []
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"videos", "members", "member_aliases", "member_faces", "segments", "segment_members",
            "segment_history", "translations", "face_detections", "settings"} <= tables


def test_migrations_apply_to_an_empty_database_and_twice(pg_server):
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS fresh_migrate WITH (FORCE)")
        conn.execute("CREATE DATABASE fresh_migrate")
    url = pg_server.get_uri("fresh_migrate")
    first = Database(url)
    first.close()
    with psycopg.connect(url) as conn:
        assert apply_migrations(conn) == []
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(migration_files())
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()


def test_new_migration_file_is_applied_once(database_url, tmp_path):
    import shutil

    from db.migrate import MIGRATIONS_DIR

    for p in migration_files():
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "999_extra.sql").write_text("CREATE TABLE extra_thing (id int);")
    with psycopg.connect(database_url) as conn:
        assert apply_migrations(conn, tmp_path) == ["999_extra.sql"]
        assert apply_migrations(conn, tmp_path) == []
        assert apply_migrations(conn, MIGRATIONS_DIR) == []


def test_embedding_model_guard(db):
    with db.connection() as conn:
        ensure_embedding_model(conn, "model-a", 32)
        assert recorded_embedding_model(conn) == {"name": "model-a", "dim": 32}
        ensure_embedding_model(conn, "model-a", 32)  # same model: fine
        idx = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'segments_embedding_hnsw'").fetchone()
        assert "hnsw" in idx["indexdef"]
    with db.connection() as conn:
        with pytest.raises(EmbeddingModelMismatch) as err:
            ensure_embedding_model(conn, "model-b", 32)
        assert "reembed" in str(err.value) and "model-a" in str(err.value)
    with db.connection() as conn:
        with pytest.raises(EmbeddingModelMismatch):
            ensure_embedding_model(conn, "model-a", 64)


def test_refresh_search_fields_writes_embedding_and_tsv(db, tiny_embedder):
    with db.connection() as conn:
        conn.execute("INSERT INTO videos (id, title) VALUES ('v1', 'Video')")
        sid = conn.execute("INSERT INTO segments (video_id, start_s, end_s, caption_auto) "
                           "VALUES ('v1', 0, 4, 'a dog on the beach') RETURNING id").fetchone()["id"]
        conn.execute("INSERT INTO members (name) VALUES ('해린')")
        conn.execute("INSERT INTO segment_members (segment_id, member_id, confidence) "
                     "SELECT %s, id, 0.9 FROM members WHERE name = '해린'", (sid,))
        assert refresh_search_fields(conn, [sid], tiny_embedder) == 1
    with db.connection() as conn:
        row = conn.execute("SELECT search_text, embedding, tsv @@ to_tsquery('simple', 'dog') AS hit_en, "
                           "tsv @@ to_tsquery('simple', '해린') AS hit_ko FROM segments WHERE id = %s",
                           (sid,)).fetchone()
        assert row["hit_en"] and row["hit_ko"]
        assert "해린" in row["search_text"]
        vec = np.asarray(row["embedding"].to_numpy())
        assert vec.shape == (tiny_embedder.dim,) and abs(np.linalg.norm(vec) - 1) < 1e-4
        assert get_segments(conn, [sid])[0]["members"][0]["name"] == "해린"


def test_end_before_start_is_refused_by_the_schema(db):
    with db.connection() as conn:
        conn.execute("INSERT INTO videos (id, title) VALUES ('v1', 'Video')")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO segments (video_id, start_s, end_s) VALUES ('v1', 5, 5)")


def test_embedded_server_cache_size_applies_from_its_next_start(tmp_path):
    from db.server import embedded_server, restart_embedded_server, stop_embedded_servers

    pgdata = tmp_path / "pgdata"
    try:
        srv = embedded_server(pgdata, shared_buffers_mb=48)
        with psycopg.connect(srv.get_uri()) as conn:
            assert conn.execute("SHOW shared_buffers").fetchone()[0] == "128MB"     # the server was already up
        srv = restart_embedded_server(pgdata, shared_buffers_mb=48)
        with psycopg.connect(srv.get_uri()) as conn:
            assert conn.execute("SHOW shared_buffers").fetchone()[0] == "48MB"
    finally:
        stop_embedded_servers()
    assert not (pgdata / "postmaster.pid").exists()          # stopped with its last holder, after the restart too


def test_member_rows_keep_a_copy_of_their_segments_embedding(db, tiny_embedder):
    """segment_members.embedding (migration 003, read by member-filtered exact search) follows the segment."""
    from db.embeddings import switch_embedding_model
    from tests.factories import add_member, add_segment, add_video

    def copies(conn):
        return conn.execute("SELECT bool_and(sm.embedding IS NOT DISTINCT FROM s.embedding) AS same, count(*) AS n "
                            "FROM segment_members sm JOIN segments s ON s.id = sm.segment_id").fetchone()

    with db.connection() as conn:
        add_video(conn, "v", "V")
        sid = add_segment(conn, "v", 0, 4, tiny_embedder, caption="a cat sleeps", members=["Mina", "Jun"])
        assert copies(conn) == {"same": True, "n": 2}            # tagged first, embedded after
        conn.execute("UPDATE segments SET caption_edited = 'a dog runs' WHERE id = %s", (sid,))
        refresh_search_fields(conn, [sid], tiny_embedder)       # re-embedded after an edit
        conn.execute("INSERT INTO segment_members (segment_id, member_id) VALUES (%s, %s)",
                     (sid, add_member(conn, "Hana")))           # tagged after embedding
        assert copies(conn) == {"same": True, "n": 3}
        assert conn.execute("SELECT count(*) AS n FROM segment_members WHERE embedding IS NULL").fetchone()["n"] == 0
        switch_embedding_model(conn, "another-model", tiny_embedder.dim)          # embeddings cleared
        copies = conn.execute("SELECT count(*) AS n FROM segment_members WHERE embedding IS NOT NULL").fetchone()
        assert copies["n"] == 0
