"""The cache of translators' answers (``translations`` table): one row per source text, model and kind. The kind
(column ``target_lang``) is the target language of a translation (``ko``, ``en``), or ``summary:ko`` for a
result summary, whose source text is the query and the captions it summarised. Search and ``indexer
translate`` share it, so a caption is sent to Gemini once."""
from __future__ import annotations

import hashlib

import psycopg


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cached(conn: psycopg.Connection, texts: list[str], model: str, target_lang: str) -> dict[str, str]:
    """Source text → cached translation, for those of ``texts`` already translated by ``model``."""
    hashes = {text_hash(t): t for t in texts if t}
    if not hashes:
        return {}
    rows = conn.execute(
        "SELECT source_hash, source_text, translated FROM translations "
        "WHERE source_hash = ANY(%s) AND model = %s AND target_lang = %s",
        (list(hashes), model, target_lang),
    ).fetchall()
    return {r["source_text"]: r["translated"] for r in rows if hashes.get(r["source_hash"]) == r["source_text"]}


def store(conn: psycopg.Connection, pairs: dict[str, str], model: str, target_lang: str) -> None:
    if not pairs:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO translations (source_hash, model, target_lang, source_text, translated) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (source_hash, model, target_lang) DO NOTHING",
            [(text_hash(src), model, target_lang, src, dst) for src, dst in pairs.items()],
        )


def answers(db, texts: list[str], model: str, kind: str, ask) -> dict[str, str]:
    """Answers for ``texts`` from the cache, the rest from ``ask`` (missing texts → their answers in order, or
    None when the translator could not answer), which are then cached."""
    with db.connection() as conn:
        found = cached(conn, texts, model, kind)
    missing = [t for t in dict.fromkeys(texts) if t and t not in found]
    if missing:
        got = ask(missing)
        if got and len(got) == len(missing):                # a translator that lost count answered nothing
            new = dict(zip(missing, got, strict=True))
            with db.connection() as conn:
                store(conn, new, model, kind)
            found.update(new)
    return found
