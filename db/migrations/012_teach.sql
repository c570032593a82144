-- Corrections teach the gallery (edits/teach.py): a "teach" history entry adds faces of a corrected segment to a
-- member's gallery; its revert removes them again. Both keep what they did here, so a revert knows which gallery
-- faces to remove and which members to re-match:
-- {"member_id", "member", "faces": [member_faces ids], "detections": [face_detections ids], "lookalikes": [member
-- ids], "added", "removed" (tags changed by the re-match)}.
ALTER TABLE segment_history ADD COLUMN gallery jsonb;
