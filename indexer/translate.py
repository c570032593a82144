"""``translate [VIDEO]``: fill missing Korean captions through Gemini, in batches, so Korean words find them.

Every caption (edited, else automatic) without a Korean one is translated, except captions already in
Korean. Translations go through the shared cache (``db.translations``): a caption Gemini translated once,
for search or for this command, is never sent again. Each batch is written in its own transaction (the
Korean caption, the segment's search fields re-embedded, its version bumped so a stale edit form gets 409),
so an interrupted run (quota, network, Ctrl-C) keeps what it did and the next run continues from there.
"""
from __future__ import annotations

from dataclasses import dataclass

from tqdm import tqdm

from core.gemini import GeminiUnavailable
from db import translations
from db.segments import refresh_search_fields
from db.videos import get_video
from indexer import store

BATCH = 40


@dataclass
class TranslateRun:
    total: int = 0                 # captions that needed Korean at the start
    translated: int = 0
    stopped: str | None = None     # why the run stopped early (Gemini's notice)


def translate_captions(db, embedder, translator, video: str | None = None, batch: int = BATCH,
                       progress: bool | None = None) -> TranslateRun:
    with db.connection() as conn:
        if video is not None:
            get_video(conn, video)                              # NotFound names the video
        todo = store.captions_without_korean(conn, video)
    run = TranslateRun(total=len(todo))
    with tqdm(total=len(todo), desc="Korean captions", unit="caption", disable=None if progress is None
              else not progress) as bar:
        for i in range(0, len(todo), batch):
            part = todo[i:i + batch]
            try:
                korean = translations.answers(db, [r["caption"] for r in part], translator.model, "ko",
                                              lambda missing: translator.translate(missing, "ko"))
            except GeminiUnavailable as err:
                run.stopped = err.notice
                break
            with db.connection() as conn:
                done = [r["id"] for r in part if korean.get(r["caption"]) and
                        store.set_korean_caption(conn, r["id"], korean[r["caption"]])]
                if done:
                    refresh_search_fields(conn, done, embedder)
            run.translated += len(done)
            bar.update(len(part))
    return run
