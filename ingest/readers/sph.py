"""SPH data set: ``records/<ECG_ID>.h5`` (dataset ``ecg``, (12, N) float16 mV, 500 Hz) + ``metadata.csv``.

Untrusted ``.h5`` files are checked before any sample is read: ``ecg`` must be a hard-linked,
contiguous or chunked dataset stored in the file itself (no external or soft link, no external raw
storage, no virtual dataset, only the deflate/shuffle/fletcher32/LZF filters), of a numeric scalar
dtype (no compound, array, vlen or string elements), whose declared size fits ``ReadLimits``
(h5py inflates the whole declared shape, so a gzip bomb is bounded by the declared size), and whose
chunks fit it too: HDF5 inflates a whole chunk to read any part of it, and a chunk may be declared
far larger than its dataset (a 1.7 MB file with a (12, 5000) ``ecg`` in one 1.6 GiB chunk).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import EcgstreamError
from ingest.identity import scoped_recording_id
from ingest.limits import DEFAULT_LIMITS, FORBIDDEN_CONTENT, ReadLimits, refuse_above
from schemas.errors import InvalidRecording, UnsupportedFormat
from schemas.recording import Recording

__all__ = ["SPH_FS", "read", "is_sph_dataset", "iter_dataset", "read_metadata"]

logger = logging.getLogger(__name__)

SPH_FS = 500.0
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
# HDF5 filter ids h5py decodes without plugins: deflate, shuffle, fletcher32, LZF
ALLOWED_FILTERS = {1, 2, 3, 32000}


def is_sph_dataset(folder: Path) -> bool:
    """True for a folder with ``metadata.csv`` and ``records/``."""
    return (folder / "metadata.csv").is_file() and (folder / "records").is_dir()


@lru_cache(maxsize=4)
def _metadata(path: Path, mtime: float) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return {row["ECG_ID"]: row for row in csv.DictReader(handle) if row.get("ECG_ID")}


def read_metadata(folder: Path) -> dict[str, dict[str, str]]:
    """ECG_ID -> metadata row of an SPH data set folder."""
    path = folder / "metadata.csv"
    try:
        return _metadata(path, path.stat().st_mtime)
    except (OSError, UnicodeDecodeError, csv.Error, KeyError) as exc:
        raise UnsupportedFormat(
            f"{path} is not a readable SPH metadata.csv: {exc}", reason="unreadable"
        ) from exc


def _demographics(row: dict[str, str] | None) -> dict[str, Any]:
    if not row:
        return {}
    result: dict[str, Any] = {}
    try:
        result["age"] = int(float(row.get("Age", "")))
    except ValueError:
        pass
    sex = (row.get("Sex") or "").strip().upper()[:1]
    if sex in ("M", "F"):
        result["sex"] = sex
    return result


def _forbid(name: str, what: str) -> None:
    raise InvalidRecording(f"{name}: {what} is refused (it could read other files)", reason=FORBIDDEN_CONTENT)


def _checked_dataset(handle: Any, name: str, limits: ReadLimits) -> Any:
    """The ``ecg`` dataset, after every check that needs no sample to be read."""
    import h5py

    link = handle.get("ecg", getlink=True)
    if link is None:
        raise UnsupportedFormat(f"{name}: HDF5 file has no 'ecg' dataset", reason="unreadable")
    if isinstance(link, h5py.ExternalLink):
        _forbid(name, "an external link for 'ecg'")
    if not isinstance(link, h5py.HardLink):
        _forbid(name, "a soft link for 'ecg'")
    dataset = handle.get("ecg")
    if not isinstance(dataset, h5py.Dataset):
        raise UnsupportedFormat(f"{name}: HDF5 file has no 'ecg' dataset", reason="unreadable")
    if dataset.is_virtual:
        _forbid(name, "a virtual dataset")
    if dataset.external:
        _forbid(name, "external raw storage")
    plist = dataset.id.get_create_plist()
    for index in range(plist.get_nfilters()):
        code = plist.get_filter(index)[0]
        if code not in ALLOWED_FILTERS:
            raise UnsupportedFormat(f"{name}: HDF5 filter {code} is not supported", reason="unreadable")
    dtype = dataset.dtype
    if dtype.names is not None or dtype.subdtype is not None or dtype.kind not in "fiu" or h5py.check_vlen_dtype(dtype):
        raise UnsupportedFormat(
            f"{name}: 'ecg' elements are {dtype}, not numbers (compound, array and text types are refused)",
            reason="unreadable",
        )
    if dataset.ndim != 2 or 12 not in dataset.shape:
        raise InvalidRecording(
            f"{name}: 'ecg' has shape {dataset.shape}, expected (12, N)", reason="wrong_lead_count"
        )
    refuse_above(name, "the number of samples", int(dataset.size), limits.max_values)
    refuse_above(name, "the decoded size in bytes", int(dataset.size) * 8, limits.max_decoded_bytes)
    chunk = plist.get_chunk() if plist.get_layout() == h5py.h5d.CHUNKED else ()
    chunk_bytes = int(np.prod(chunk, dtype=np.int64)) * dtype.itemsize if chunk else 0
    refuse_above(name, "one chunk's size in bytes", chunk_bytes, limits.max_decoded_bytes)
    return dataset


def read(path: Path, *, row: dict[str, str] | None = None, limits: ReadLimits = DEFAULT_LIMITS) -> Recording:
    """One SPH ``.h5`` record; demographics from ``row`` or from ``../metadata.csv`` when present."""
    import h5py

    path = Path(path)
    try:
        with h5py.File(path, "r") as handle:
            dataset = _checked_dataset(handle, path.name, limits)
            signal = np.asarray(dataset[()], dtype=np.float32)
    except EcgstreamError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # h5py raises OSError, KeyError, ValueError... on damaged files
        raise UnsupportedFormat(f"{path.name}: unreadable HDF5 file ({exc})", reason="unreadable") from exc
    if signal.shape[0] != 12:
        signal = signal.T
    if row is None and path.parent.name == "records" and is_sph_dataset(path.parent.parent):
        row = read_metadata(path.parent.parent).get(path.stem)
    demographics = _demographics(row)
    recording_id = scoped_recording_id("sph", path.stem, signal, SPH_FS, demographics)  # stems repeat across sites
    return Recording(signal=signal, fs=SPH_FS, recording_id=recording_id, source=path.name, **demographics)


def iter_dataset(folder: Path) -> Iterator[tuple[str, Recording | InvalidRecording]]:
    """Every record of an SPH data set folder, in metadata order; failures are yielded, not raised."""
    folder = Path(folder)
    try:
        rows = read_metadata(folder)
    except InvalidRecording as exc:
        yield str(folder / "metadata.csv"), exc
        return
    for ecg_id, row in rows.items():
        path = folder / "records" / f"{ecg_id}.h5"
        if not path.is_file():
            yield (
                str(path),
                InvalidRecording(f"{path.name} is listed in metadata.csv but absent", reason="unreadable"),
            )
            continue
        try:
            yield str(path), read(path, row=row)
        except InvalidRecording as exc:
            yield str(path), exc
