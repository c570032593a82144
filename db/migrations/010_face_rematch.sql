-- Re-matching after a gallery correction (edits/rematch.py) reads two sets of stored face detections:
-- those matched to the corrected members (this index), and those near the members' gallery faces, found by
-- an exact scan of face_detections.embedding in SQL (db/faces.py says why not HNSW).
CREATE INDEX face_detections_member ON face_detections (member_id) WHERE member_id IS NOT NULL;

-- pgvector stores vectors out of line (STORAGE external): a 512-d face embedding (2 KiB) goes to the TOAST
-- table, and a scan then pays one TOAST index lookup per row. PLAIN keeps it in the row (3 rows per page),
-- which makes that scan read the table once. Rows written before this migration keep their storage until
-- rewritten (VACUUM FULL face_detections moves them).
ALTER TABLE face_detections ALTER COLUMN embedding SET STORAGE PLAIN;
