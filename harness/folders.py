"""Output folders: made at the start of a command, so that a folder that cannot be written is a
one-line usage error before any work is done, not a traceback after it."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UsageError


def writable_folder(path: str | Path, what: str) -> Path:
    """Creates ``path`` (and its parents) if needed and checks that files can be made in it;
    ``what`` names it in the error (e.g. ``"--out folder"``)."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {what} {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write into {what} {folder}: permission denied")
    return folder
