-- Unknown faces (edits/clusters.py): the library's unmatched face detections grouped into clusters, so that a
-- person seen often but not enrolled can be named once ("this is …") from the Members page.
-- A cluster is built incrementally: a new detection joins the nearest cluster of its face model (cosine
-- similarity of at least faces.cluster_threshold to the centroid) or starts one; the centroid is the running
-- mean of its detections' embeddings. size counts the cluster's detections that are still unmatched.
CREATE TABLE face_clusters (
    id          bigserial PRIMARY KEY,
    model       text NOT NULL,
    centroid    vector NOT NULL,
    size        integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX face_clusters_model ON face_clusters (model);

ALTER TABLE face_detections ADD COLUMN cluster_id bigint REFERENCES face_clusters(id) ON DELETE SET NULL;
CREATE INDEX face_detections_cluster ON face_detections (cluster_id) WHERE cluster_id IS NOT NULL;
-- what the next clustering run reads: unmatched detections not in a cluster yet
CREATE INDEX face_detections_unclustered ON face_detections (model, id) WHERE member_id IS NULL AND cluster_id IS NULL;
