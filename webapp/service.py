"""Uploaded files -> validated ``Recording`` -> recordings topic.

Uploads are copied into a private temporary folder (mode 0700, one per request) under sanitised
names, read there by ``ingest.read_recording`` (which detects the format from the content, never
trusting the extension alone) in a separate, memory- and time-limited process
(``ingest.sandbox``; at most PARSE_CONCURRENCY at once, so their memory is bounded in total), and
deleted as soon as they are read. Reader messages are scrubbed of
that folder's path before they reach the client. File names, demographics and the patient reference
are never logged.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePath
from typing import BinaryIO

from starlette.concurrency import run_in_threadpool

from ingest.detect import read_recording
from ingest.limits import ReadLimits
from ingest.publisher import Publisher
from ingest.sandbox import ParsersBusy, SandboxLimits, read_isolated
from schemas.errors import InvalidRecording
from schemas.recording import Recording, new_recording_id
from schemas.validation import validate_recording
from storage.identity import StoredIdentity
from webapp.errors import Busy, GatewayError
from webapp.fields import UploadFields

__all__ = ["UploadedFile", "UploadService", "read_uploaded", "apply_fields", "GATEWAY_SOURCE"]

logger = logging.getLogger(__name__)

GATEWAY_SOURCE = "ecgstream-gateway"
WFDB_HEADER = ".hea"
WFDB_SIGNALS = {".dat", ".mat"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_TWO_FILES_HINT = "upload one ECG file, or a WFDB record as its .hea file together with its .dat or .mat file"


@dataclass(frozen=True)
class UploadedFile:
    """One uploaded file: the name the browser sent and a readable binary stream."""

    filename: str
    stream: BinaryIO


def safe_name(filename: str) -> str:
    """A file name without folders or unusual characters (``../a b.dcm`` -> ``a_b.dcm``)."""
    base = PurePath(filename.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).lstrip(".")[-100:]
    return cleaned or "upload"


def _target(paths: list[Path]) -> Path:
    """The file to hand to the reader: the single file, or the header of a WFDB pair."""
    if not paths:
        raise GatewayError(400, "no_file", "choose an ECG file to upload")
    suffixes = sorted(path.suffix.lower() for path in paths)
    if len(paths) == 1:
        if suffixes[0] == WFDB_HEADER:
            raise GatewayError(
                400,
                "incomplete_wfdb",
                "a WFDB header (.hea) needs its signal file (.dat or .mat): select both",
            )
        if suffixes[0] in WFDB_SIGNALS:
            raise GatewayError(
                400,
                "incomplete_wfdb",
                "a WFDB signal file (.dat or .mat) needs its header (.hea): select both",
            )
        return paths[0]
    if len(paths) == 2 and WFDB_HEADER in suffixes and any(s in WFDB_SIGNALS for s in suffixes):
        return next(path for path in paths if path.suffix.lower() == WFDB_HEADER)
    raise GatewayError(400, "too_many_files", _TWO_FILES_HINT)


def _scrubbed(exc: InvalidRecording, folder: str) -> InvalidRecording:
    """The same error without the temporary folder's path in its message."""
    message = str(exc).replace(folder + "/", "").replace(folder, "")
    return type(exc)(message, reason=exc.reason)


def read_uploaded(
    files: Sequence[UploadedFile], read: Callable[[Path], Recording] = read_recording
) -> Recording:
    """Copy ``files`` into a private temporary folder, ``read`` the recording, delete the files.

    Raises ``GatewayError`` for an unusable selection of files, ``InvalidRecording`` (or its
    ``UnsupportedFormat``) for content the readers reject. Blocking: call it in a worker thread.
    """
    with tempfile.TemporaryDirectory(prefix="ecgstream-upload-") as folder:
        paths: list[Path] = []
        for upload in files:
            path = Path(folder) / safe_name(upload.filename)
            if path in paths:
                raise GatewayError(400, "duplicate_file", "two uploaded files have the same name")
            with path.open("xb") as out:
                shutil.copyfileobj(upload.stream, out, 1024 * 1024)
            if path.stat().st_size == 0:
                raise GatewayError(400, "empty_file", f"{path.name} is empty")
            paths.append(path)
        target = _target(paths)
        try:
            return read(target)
        except InvalidRecording as exc:
            raise _scrubbed(exc, folder) from None


def apply_fields(rec: Recording, fields: UploadFields) -> Recording:
    """``rec`` with a fresh recording id, the form's demographics and no file name."""
    rec.recording_id = new_recording_id()  # file stems repeat across uploads; ids must not
    rec.age = fields.age
    rec.sex = fields.sex
    rec.height_cm = fields.height_cm
    rec.weight_kg = fields.weight_kg
    rec.patient_ref = fields.patient_ref or rec.patient_ref
    rec.device_id = fields.device_id or rec.device_id
    rec.source = GATEWAY_SOURCE  # an uploaded file's name may identify the patient
    return rec


class UploadService:
    """Reads uploads and publishes them with the app's one ``Publisher``."""

    def __init__(
        self,
        publisher: Publisher,
        max_recording_bytes: int,
        sandbox: SandboxLimits | None = None,
        keep_tracing: Callable[[Recording], Awaitable[None]] | None = None,
        keep_identity: Callable[[str, StoredIdentity], Awaitable[None]] | None = None,
    ) -> None:
        self.publisher = publisher
        self.keep_tracing = keep_tracing  # e.g. webapp.clinic.keep_tracing: samples for the viewer
        self.keep_identity = keep_identity  # e.g. webapp.clinic.keep_identity: encrypted, for the chart report
        self.max_recording_bytes = max_recording_bytes
        self._read = partial(
            read_isolated,
            read_limits=ReadLimits.for_recording_bytes(max_recording_bytes),
            limits=sandbox or SandboxLimits(),
        )

    async def submit(self, files: Sequence[UploadedFile], fields: UploadFields) -> str:
        """Read, validate and publish one upload; returns the new recording id."""
        from aiokafka.errors import KafkaError

        try:
            rec = await run_in_threadpool(read_uploaded, files, self._read)
            rec = apply_fields(rec, fields)
            await run_in_threadpool(validate_recording, rec, max_bytes=self.max_recording_bytes)
        except ParsersBusy as exc:
            logger.warning("upload refused: every parser place busy")
            raise Busy(503, exc.reason, "the server is busy reading other uploads; try again shortly", 5) from None
        except InvalidRecording as exc:
            logger.info("upload rejected", extra={"reason": exc.reason})
            raise
        if self.keep_tracing is not None:
            await self.keep_tracing(rec)  # before publishing, so the tracing is there when the result is
        if self.keep_identity is not None:
            await self.keep_identity(rec.recording_id, StoredIdentity(rec.patient_ref, fields.patient_name))
        try:
            partition, offset = await self.publisher.publish(rec)
        except KafkaError as exc:
            logger.error("publishing an upload failed", extra={"error": type(exc).__name__})
            raise GatewayError(
                503,
                "broker_unavailable",
                "the recording could not be queued because the message broker is unavailable; try again shortly",
            ) from exc
        logger.info(
            "upload queued",
            extra={
                "recording_id": rec.recording_id,
                "fs": rec.fs,
                "n_samples": rec.n_samples,
                "partition": partition,
                "offset": offset,
            },
        )
        return rec.recording_id
