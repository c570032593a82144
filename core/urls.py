"""The URL layout of the app, in one place: route patterns and the builders of links to them.

Routes are declared with the patterns below; every link the app hands out (API JSON, Slack blocks, pages)
is built by ``Urls``. ``Urls(public_url)`` makes absolute links when the public URL is known (Slack needs
them), ``Urls()`` site-relative ones (the editor's own pages and API).
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

VIDEO_PAGE = "/videos/{video_id}"
VIDEO_REMOVE = "/videos/{video_id}/remove"
VIDEO_MEDIA = "/media/videos/{video_id}"
VIDEO_SUBTITLES = "/api/videos/{video_id}/subtitles.{fmt}"
VIDEO_WAVEFORM = "/api/videos/{video_id}/waveform.json"
VIDEO_FILMSTRIP = "/api/videos/{video_id}/filmstrip.json"
VIDEO_FILMSTRIP_SPRITE = "/api/videos/{video_id}/filmstrip.jpg"
VIDEO_CLIP = "/api/videos/{video_id}/clip.mp4"
THUMBNAIL = "/thumbnails/{segment_id}.jpg"
SLACK_EVENTS = "/slack/events"
LOGIN = "/login"
LOGOUT = "/logout"
LINK_SWITCH = "/login/link"
API_DOCS = "/api/docs"
DOCS_STATIC = "/api/docs-static"
OPENAPI = "/api/openapi.json"


class Urls:
    def __init__(self, base: str | None = None):
        self.base = (base or "").rstrip("/")

    def video_page(self, video_id: str) -> str:
        return self.base + VIDEO_PAGE.format(video_id=quote(video_id, safe=""))

    def video_remove(self, video_id: str) -> str:
        return self.base + VIDEO_REMOVE.format(video_id=quote(video_id, safe=""))

    def moment(self, video_id: str, segment_id: int | None = None, token: str | None = None) -> str:
        """The editor page of a video, opened at one segment; ``token`` is a signed link token (``?t=``)."""
        params = {}
        if token is not None:
            params["t"] = token
        if segment_id is not None:
            params["segment"] = str(segment_id)
        return self.video_page(video_id) + (f"?{urlencode(params)}" if params else "")

    def media(self, video_id: str) -> str:
        return self.base + VIDEO_MEDIA.format(video_id=quote(video_id, safe=""))

    def subtitles(self, video_id: str, fmt: str) -> str:
        """The video's transcripts as a subtitle file, ``fmt`` "srt" or "vtt"."""
        return self.base + VIDEO_SUBTITLES.format(video_id=quote(video_id, safe=""), fmt=fmt)

    def waveform(self, video_id: str) -> str:
        return self.base + VIDEO_WAVEFORM.format(video_id=quote(video_id, safe=""))

    def filmstrip(self, video_id: str) -> str:
        return self.base + VIDEO_FILMSTRIP.format(video_id=quote(video_id, safe=""))

    def filmstrip_sprite(self, video_id: str, version: str | None = None) -> str:
        """The filmstrip's JPEG; ``version`` (the cache key of the source) changes the link when the file does."""
        url = self.base + VIDEO_FILMSTRIP_SPRITE.format(video_id=quote(video_id, safe=""))
        return url + (f"?{urlencode({'v': version})}" if version else "")

    def video_clip(self, video_id: str, segment_ids: list[int]) -> str:
        """Several segments of one video joined into one MP4 download, in time order."""
        return (self.base + VIDEO_CLIP.format(video_id=quote(video_id, safe=""))
                + "?" + urlencode({"segments": ",".join(str(i) for i in segment_ids)}, safe=","))

    def video_span_clip(self, video_id: str, start: float, end: float) -> str:
        """A span of a video (a highlight) as an MP4 download."""
        return (self.base + VIDEO_CLIP.format(video_id=quote(video_id, safe=""))
                + "?" + urlencode({"start": f"{start:.2f}", "end": f"{end:.2f}"}))

    def thumbnail(self, segment_id: int) -> str:
        return self.base + THUMBNAIL.format(segment_id=segment_id)

    def login(self) -> str:
        return self.base + LOGIN

    def logout(self) -> str:
        return self.base + LOGOUT

    def link_switch(self) -> str:
        return self.base + LINK_SWITCH

    def slack_events(self) -> str:
        return self.base + SLACK_EVENTS
