"""Read an uploaded file (bytes + its name) into a ``Recording``, for gateways."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePath

from ingest.detect import WFDB_SUFFIXES, read_recording
from schemas.errors import UnsupportedFormat
from schemas.recording import Recording

__all__ = ["read_upload"]


def read_upload(data: bytes, filename: str = "upload") -> Recording:
    """The ``Recording`` of one uploaded file (SPH .h5, DICOM or HL7 aECG XML).

    WFDB needs two files (``.hea`` + ``.dat``/``.mat``), so a single upload cannot be one.
    Raises ``UnsupportedFormat`` / ``InvalidRecording`` like ``read_recording``.
    """
    name = PurePath(filename or "upload").name or "upload"
    if PurePath(name).suffix.lower() in WFDB_SUFFIXES:
        raise UnsupportedFormat(
            f"{name}: a WFDB record is two files (.hea + .dat/.mat); upload DICOM, HL7 aECG XML or SPH .h5",
            reason="unsupported_format",
        )
    with tempfile.TemporaryDirectory(prefix="ecgstream-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        recording = read_recording(path)
    recording.source = name
    return recording
