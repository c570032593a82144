-- A member-only search lists that member's segments, surest first (a manual tag counts as 1.0).
-- This index hands them out in that order, so the first page does not sort every segment of a
-- frequent member (600 ms for 100k tagged segments without it). search/retrieval.py repeats the
-- expression verbatim (LISTING_CONFIDENCE): PostgreSQL uses the index only for the same expression.
CREATE INDEX segment_members_listing ON segment_members
    (member_id, (CASE WHEN source = 'manual' THEN 1.0::real ELSE COALESCE(confidence, 0.0::real) END) DESC, segment_id);
