"""Offline indexer: video files -> segments in the database."""
