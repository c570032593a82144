"""Search shared by the Slack bot and the web editor.

``search.service.search_segments(ctx, query, limit=, offset=, member=, video=, actor=)`` is the one entry
point; ``search.api`` serves it as ``GET /api/search``. Modules: ``query`` (cleaning, member names),
``retrieval`` (pgvector + full-text SQL), ``ranking`` (fusion, collapse, confidence), ``gemini`` and
``translations`` (Korean captions, summary, the cache).
"""
