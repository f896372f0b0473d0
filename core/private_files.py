"""Files under ``ECGSTREAM_HOME`` are private to the user who runs ecgstream: folders 0700, files 0600.

The home folder holds the embedded SQLite database (hashed credentials, diagnoses), the processes'
logs and ``stack.json``; none of it is for other local users. The SQLite file itself is created
0600 by ``storage.engine`` (SQLite gives its ``-wal`` and ``-shm`` files the database file's mode).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

__all__ = ["private_folder", "open_private_log", "write_private_text", "FOLDER_MODE", "FILE_MODE"]

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """``path`` and its missing parents created 0700 (an existing folder is left as it is)."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    for folder in missing:
        folder.chmod(FOLDER_MODE)  # mkdir's mode is filtered by the umask; chmod is not
    return path


def open_private_log(path: Path) -> BinaryIO:
    """``path`` opened for appending, created 0600 (and made 0600 if an older run left it wider)."""
    private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    return os.fdopen(descriptor, "ab")


def write_private_text(path: Path, text: str) -> Path:
    """Replace ``path`` with ``text`` atomically, mode 0600 from the first byte."""
    private_folder(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)
    return path
