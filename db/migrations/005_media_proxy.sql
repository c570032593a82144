-- Media that plays: a video whose own file browsers cannot play (HEVC, Matroska, AVI, MPEG-2…) gets a
-- browser-playable copy (H.264/AAC MP4 under data_dir/proxies, made by indexer/proxy.py at index time). The
-- editor plays the copy; clips are still cut from the original, which stays the source of truth.
--   proxy_path   the copy, when the video needs one and it was made (NULL: the original plays as it is)
--   proxy_error  why the video has no playable media: its file needs a copy and making it failed
-- Both NULL on rows indexed before this migration: their own file is served, as before.
ALTER TABLE videos ADD COLUMN proxy_path text, ADD COLUMN proxy_error text;
