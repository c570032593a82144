"""Removing files the library made (thumbnails, playable copies, temporary files): quietly when already gone, with
a warning naming the file when the system refuses."""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def remove_file(path: Path) -> int:
    """Delete ``path``; 1 when it was deleted, 0 when it was not there or could not be deleted (logged)."""
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    except OSError as err:
        log.warning("could not remove %s (%s); delete it by hand", path, err)
        return 0
    return 1
