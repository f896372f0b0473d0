"""Expand files, folders and SPH data set folders into recordings, never stopping on a bad file."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from core.errors import EcgstreamError
from ingest.detect import CANDIDATE_SUFFIXES, detect_format, read_recording
from ingest.readers import sph
from schemas.errors import InvalidRecording, UnsupportedFormat
from schemas.recording import Recording

__all__ = ["IngestItem", "iter_recordings", "expand_paths"]

logger = logging.getLogger(__name__)

IngestItem = tuple[str, Recording | InvalidRecording]


def _folder_files(folder: Path) -> Iterator[Path]:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix in CANDIDATE_SUFFIXES:
            if suffix == "":
                try:
                    detect_format(path)
                except EcgstreamError:
                    continue  # an extension-less file that is no ECG: not ours
            yield path
        elif suffix in (".dat", ".mat") and not path.with_suffix(".hea").exists():
            yield path  # a signal file without its header: reported, not skipped


def expand_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files as given; folders expanded (SPH data set folders are yielded whole)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not sph.is_sph_dataset(path):
            yield from _folder_files(path)
        else:
            yield path


def _read_one(path: Path) -> Recording | InvalidRecording:
    try:
        return read_recording(path)
    except InvalidRecording as exc:
        return exc
    except EcgstreamError as exc:
        return InvalidRecording(str(exc), reason=exc.reason)
    except Exception as exc:  # a reader bug must not stop a bulk run; report it like a bad file
        logger.exception("reader failed unexpectedly", extra={"file": path.name})
        return UnsupportedFormat(f"{path.name}: unreadable ({type(exc).__name__})", reason="unreadable")


def iter_recordings(paths: Iterable[str | Path]) -> Iterator[IngestItem]:
    """(source, Recording or the InvalidRecording that rejected it) for every file under ``paths``."""
    for path in expand_paths(paths):
        if path.is_dir():
            yield from sph.iter_dataset(path)
        elif not path.exists():
            yield str(path), UnsupportedFormat(f"{path}: no such file or folder", reason="unreadable")
        else:
            yield str(path), _read_one(path)
