-- Speech: why speech recognition failed for a video that was otherwise indexed (a broken audio stream); NULL when
-- it ran, was not needed (subtitles, no audio) or is turned off.
ALTER TABLE videos ADD COLUMN speech_error text;
