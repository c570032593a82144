"""Ranking behaviour: edited captions first, near-duplicates collapsed, stable pages, full filtered pages."""
import numpy as np

from db.embeddings import ensure_embedding_model
from search import retrieval
from search.service import search_segments
from tests.factories import add_member, add_segment, add_video


def test_edited_caption_outranks_automatic_one(ctx, db, minilm_embedder):
    with db.connection() as conn:
        add_video(conn, "a", "A")
        add_video(conn, "b", "B")
        auto = add_segment(conn, "a", 0, 4, minilm_embedder, caption="a drummer plays a long solo")
        edited = add_segment(conn, "b", 0, 4, minilm_embedder, caption="a person sits",
                             caption_edited="a drummer plays a long solo")
        add_segment(conn, "b", 10, 14, minilm_embedder, caption="a bird flies over a lake")
    out = search_segments(ctx, "drummer solo")
    ids = [r["segment_id"] for r in out["results"]]
    assert ids[:2] == [edited, auto]
    assert "caption written by a person" in out["results"][0]["why"]
    assert out["results"][0]["caption"] == "a drummer plays a long solo"


def test_adjacent_near_duplicates_collapse_into_one_moment(ctx, db, minilm_embedder):
    with db.connection() as conn:
        add_video(conn, "d", "Dup")
        run = [add_segment(conn, "d", 2.0 * i, 2.0 * i + 2, minilm_embedder, caption="a girl waves at the camera")
               for i in range(5)]
        later = add_segment(conn, "d", 40, 42, minilm_embedder, caption="a girl waves at the camera")
        other = add_segment(conn, "d", 10, 12, minilm_embedder, caption="a truck unloads boxes at a warehouse")
    out = search_segments(ctx, "girl waving to the camera", limit=10)
    ids = [r["segment_id"] for r in out["results"]]
    assert len(set(ids) & set(run)) == 1, ids          # five identical adjacent shots: one result
    assert later in ids                                 # same words but another moment: kept
    assert other in ids
    lead = next(r for r in out["results"] if r["segment_id"] in run)
    assert sorted([lead["segment_id"], *lead["merged_segment_ids"]]) == run
    assert any("near-identical moment" in w for w in lead["why"])


def test_pages_are_disjoint_and_cut_from_one_order(ctx, library):
    full = search_segments(ctx, "a person outdoors", limit=100)
    assert full["next_offset"] is None and len(full["results"]) == len(library)
    seen, offset = [], 0
    while offset is not None:
        page = search_segments(ctx, "a person outdoors", limit=4, offset=offset)
        assert len(page["results"]) == 4 or page["next_offset"] is None
        seen += [r["segment_id"] for r in page["results"]]
        offset = page["next_offset"]
    assert seen == [r["segment_id"] for r in full["results"]]
    assert len(seen) == len(set(seen))
    again = search_segments(ctx, "a person outdoors", limit=4, offset=8)
    assert [r["segment_id"] for r in again["results"]] == seen[8:12]


class PlaneEmbedder:
    """Maps a query to a fixed 16-d unit vector (no model needed): the text is a seed."""
    name, dim = "test-plane-16d", 16

    def embed(self, texts):
        out = np.stack([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self.dim) for t in texts])
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)

    embed_query = embed


def _synthetic(db, n=3000, tagged_every=25, seed=1):
    """n segments with clustered 16-d vectors; every ``tagged_every``-th has member 'Tagged'."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(30, 16))
    x = centres[rng.integers(0, 30, n)] + 0.35 * rng.normal(size=(n, 16))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    with db.connection() as conn:
        ensure_embedding_model(conn, PlaneEmbedder.name, PlaneEmbedder.dim)
        add_video(conn, "syn", "Synthetic", duration_s=n * 10.0)
        mid = add_member(conn, "Tagged")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO segments (video_id, start_s, end_s, caption_auto, embedding) "
                            "VALUES ('syn', %s, %s, %s, %s)",
                            [(i * 10.0, i * 10.0 + 5, f"synthetic {i}", x[i]) for i in range(n)])
        ids = [r["id"] for r in conn.execute("SELECT id FROM segments ORDER BY start_s").fetchall()]
        tagged = ids[::tagged_every]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO segment_members (segment_id, member_id, confidence) VALUES (%s, %s, 0.9)",
                            [(sid, mid) for sid in tagged])
        conn.execute("ANALYZE segments, segment_members")          # what autovacuum does after a bulk load
    return np.asarray(ids), x, mid, set(tagged)


def test_filtered_vector_paths_return_a_full_correct_page(db):
    ids, x, mid, tagged = _synthetic(db)
    mask = np.isin(ids, list(tagged))
    filters = retrieval.Filters(member_ids=[mid])
    q = PlaneEmbedder().embed(["query one"])[0]
    sims = x[mask] @ q
    truth = list(ids[mask][np.argsort(-sims, kind="stable")])
    with db.connection() as conn:
        exact, path = retrieval.vector_candidates(conn, q, 50, 10, filters)
        assert path == "exact"
        # Too many filtered rows for the exact path: HNSW at the largest ef_search, then exact when short.
        big, big_path = retrieval.vector_candidates(conn, q, 100, 10, filters, exact_max=10)
        small, small_path = retrieval.vector_candidates(conn, q, 5, 10, filters, exact_max=10)
        # A page of 5 out of a 100-row list: the over-fetching HNSW scan is enough.
        paged, paged_path = retrieval.vector_candidates(conn, q, 100, 10, filters, exact_max=10, need=5)
    assert [sid for sid, _ in exact] == truth[:50]
    # 120 of 3000 rows (4 %): an HNSW scan (1000 rows at most) cannot find 100 of them, so exact directly.
    assert big_path == "exact-selective" and [sid for sid, _ in big] == truth[:100]
    assert small_path == "hnsw-filtered" and len(small) == 5 and len({s for s, _ in small} & set(truth[:5])) >= 4
    assert paged_path == "hnsw-filtered" and len(paged) >= 5 and all(sid in set(truth) for sid, _ in paged)
    assert len({s for s, _ in paged[:5]} & set(truth[:5])) >= 4


def test_member_filtered_search_fills_every_page(db, make_config):
    from core.context import AppContext

    _, _, _, tagged = _synthetic(db, n=2000, tagged_every=40)
    ctx = AppContext(config=make_config(search={"ef_search": 10}), db=db, embedder=PlaneEmbedder())
    seen, offset = [], 0
    while offset is not None:
        out = search_segments(ctx, "something", member="Tagged", limit=20, offset=offset)
        assert all(r["segment_id"] in tagged for r in out["results"])
        seen += [r["segment_id"] for r in out["results"]]
        offset = out["next_offset"]
    assert len(seen) == len(set(seen)) == len(tagged) == 50


def test_unloadable_or_mismatched_model_falls_back_to_words(db, make_config, library, tmp_path):
    from core.context import AppContext
    from core.embedding import SentenceTransformerEmbedder

    missing_model = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    broken = AppContext(config=make_config(), db=db, embedder=missing_model)
    out = search_segments(broken, "fireworks over the city")
    assert out["results"][0]["caption"] == "fireworks explode over the city at night"
    assert "Meaning search is off" in out["notice"] and "no-such-model" in out["notice"]
    other = AppContext(config=make_config(), db=db, embedder=PlaneEmbedder())
    out = search_segments(other, "fireworks over the city")
    assert out["results"][0]["caption"] == "fireworks explode over the city at night"
    assert "indexer reembed" in out["notice"]


def test_too_common_words_are_left_out_of_the_full_text_ranking(db, tiny_embedder):
    with db.connection() as conn:
        add_video(conn, "c", "Common")
        for i in range(30):
            add_segment(conn, "c", 10.0 * i, 10.0 * i + 5, tiny_embedder, caption=f"a person stands still {i}")
        skater = add_segment(conn, "c", 400, 405, tiny_embedder, caption="a person rides a skateboard")
        conn.execute("ANALYZE segments")
        common = retrieval.common_words(conn, max_rows=10)
        narrowed = retrieval.text_candidates(conn, ["person", "skateboard"], 10, retrieval.Filters(), common=common)
        everything = retrieval.text_candidates(conn, ["person", "skateboard"], 100, retrieval.Filters())
    assert "person" in common and "skateboard" not in common
    assert [sid for sid, _ in narrowed] == [skater]             # "person" (31 segments) no longer ranks them all
    assert len(everything) == 31 and everything[0][0] == skater  # under the default bound it still does


def test_how_common_is_too_common_follows_the_library_size():
    assert retrieval.common_word_rows(500) == 1_000              # a small library ranks every match
    assert retrieval.common_word_rows(20_000) == 1_000           # 5 %, at least 1,000
    assert retrieval.common_word_rows(100_000) == 5_000
    assert retrieval.common_word_rows(1_000_000) == 10_000       # at most 10,000


def test_member_listing_reads_the_listing_index(db):
    """The expression in LISTING_CONFIDENCE and in migration 002's index must stay the same text."""
    _, _, mid, tagged = _synthetic(db, n=500, tagged_every=5)
    scans = "SELECT pg_stat_get_xact_numscans('segment_members_listing'::regclass) AS idx_scan"   # this transaction
    with db.connection() as conn:
        conn.execute("SET LOCAL enable_seqscan = off")          # the table is tiny: make the index the only way
        before = conn.execute(scans).fetchone()["idx_scan"]
        listed = retrieval.member_listing(conn, 20, retrieval.Filters(member_ids=[mid]))
        after = conn.execute(scans).fetchone()["idx_scan"]
    assert after == before + 1
    assert [sid for sid, _ in listed] == sorted(tagged)[:20]          # equal confidence: indexing order


def test_a_frequent_member_gets_an_hnsw_index_of_their_own(db):
    from db.member_vectors import ensure_member_indexes, indexed_members

    ids, x, mid, tagged = _synthetic(db)                       # 120 of 3000 segments tagged
    mask = np.isin(ids, list(tagged))
    q = PlaneEmbedder().embed(["query two"])[0]
    truth = list(ids[mask][np.argsort(-(x[mask] @ q), kind="stable")])
    filters = retrieval.Filters(member_ids=[mid])
    with db.connection() as conn:
        assert ensure_member_indexes(conn, min_rows=121) == []     # not frequent enough
        assert ensure_member_indexes(conn, min_rows=120) == [mid]
        assert ensure_member_indexes(conn, min_rows=120) == []     # built once
        assert indexed_members(conn) == {mid}
        got, path = retrieval.vector_candidates(conn, q, 20, 40, filters)
        both_filter = retrieval.Filters(member_ids=[mid], video_id="syn")
        both, both_path = retrieval.vector_candidates(conn, q, 20, 40, both_filter)
    assert path == "hnsw-member" and len(got) == 20 and all(sid in tagged for sid, _ in got)
    assert len({sid for sid, _ in got[:10]} & set(truth[:10])) >= 9
    assert both_path != "hnsw-member" and [sid for sid, _ in both] == truth[:20]   # a second filter: another path
