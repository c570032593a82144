-- What the Members page shows of each gallery face (edits/people.py): its crop (a small JPEG named by the row's id
-- under data_dir/faces), the photo it came from, and the measures the quality gate (core/face_quality.py) took when
-- it was accepted. Rows enrolled before this migration have none of them: the page shows them without a picture.
ALTER TABLE member_faces
    ADD COLUMN crop       text,
    ADD COLUMN photo_name text,
    ADD COLUMN det_score  real,
    ADD COLUMN face_w     integer,
    ADD COLUMN face_h     integer,
    ADD COLUMN sharpness  real;
