-- Member-filtered search computes exact distances over one member's segments when the member is too rare
-- for an HNSW scan to find a full page (pgvector 0.6 has no filtered index scan). Reading each segment's
-- embedding from the segments heap costs one random page per row (~60 ms for 10k rows at 1M segments).
-- A copy of the embedding on segment_members, in an index ordered by member, puts one member's vectors
-- on consecutive index pages, read by an index-only scan. Triggers keep the copy equal to segments.embedding.
ALTER TABLE segment_members ADD COLUMN embedding vector;

-- Same dimension as segments.embedding once a model is recorded (db/embeddings.py keeps them equal), so
-- frequent members can get their own HNSW index on it (db/member_vectors.py). pgvector's typmod is the dimension.
DO $$
DECLARE dim integer;
BEGIN
    SELECT atttypmod INTO dim FROM pg_attribute WHERE attrelid = 'segments'::regclass AND attname = 'embedding';
    IF dim > 0 THEN
        EXECUTE format('ALTER TABLE segment_members ALTER COLUMN embedding TYPE vector(%s)', dim);
    END IF;
END $$;

UPDATE segment_members sm SET embedding = s.embedding FROM segments s WHERE s.id = sm.segment_id;

CREATE INDEX segment_members_vectors ON segment_members (member_id) INCLUDE (segment_id, embedding);

CREATE FUNCTION segment_members_take_embedding() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.embedding := (SELECT embedding FROM segments WHERE id = NEW.segment_id);
    RETURN NEW;
END $$;

CREATE TRIGGER segment_members_embedding BEFORE INSERT OR UPDATE OF segment_id ON segment_members
    FOR EACH ROW EXECUTE FUNCTION segment_members_take_embedding();

-- No column in the trigger's definition (UPDATE OF / WHEN): db/embeddings.py changes the column's type
-- (vector(D)) when the embedding model is recorded, which a trigger depending on it would forbid.
CREATE FUNCTION segments_share_embedding() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.embedding IS DISTINCT FROM OLD.embedding THEN
        UPDATE segment_members SET embedding = NEW.embedding WHERE segment_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER segments_embedding_to_members AFTER UPDATE ON segments
    FOR EACH ROW EXECUTE FUNCTION segments_share_embedding();
