"""Web editor: pages and JSON API for correcting segments."""
