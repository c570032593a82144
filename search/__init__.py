"""Search shared by the Slack bot and the web editor.

``search.service.search_segments(ctx, query, limit=, offset=, member=, video=, actor=)`` is the one entry
point; ``search.api`` serves it as ``GET /api/search``. Modules, in the order a query meets them: ``query``
(cleaning, member names), ``retrieval`` (pgvector + full-text SQL), ``scale`` (how a query's cosines spread),
``ranking`` (score, collapse, calibrated confidence), ``present`` (results that explain themselves) and
``korean`` (the query in English, Korean captions and the summary, through a translator and its cache).
"""
