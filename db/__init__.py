"""The database: the server (embedded or ``database_url``), the pool, the migrations, and the queries more
than one package needs: ``videos`` (one by id, the media file, the listing), ``segments`` (read with members,
insert, tag, refresh search fields), ``members`` (names, aliases, gallery), ``embeddings`` (the recorded
model) and ``member_vectors`` (members' own HNSW indexes).

SQL that only one package needs sits in that package's store, next to the rules it serves:
``edits/store.py`` (locks, version checks, history), ``indexer/store.py`` (writing one indexed video, retag,
status counts) and ``search/retrieval.py`` (the query planner: vector and full-text legs);
the cache of translators' answers is ``db/translations.py``. Nothing else runs SQL.
"""
from db.database import Database, connect_database

__all__ = ["Database", "connect_database"]
