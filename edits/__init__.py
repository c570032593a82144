"""The rules about editing segments, below both doors (the web editor and the Slack bot).

``edits.operations``: update, retime, split, merge, create, delete (and reading one segment);
``edits.history``: the history of every change and reverting any entry. Each function takes the database
and, where text changes, the text embedder (search fields are refreshed in the same transaction); errors are
``edits.errors`` (400/404/409, nothing changed). ``edits.store`` holds the SQL only editing needs.
"""
