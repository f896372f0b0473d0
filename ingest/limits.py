"""How much a reader may decode from one file, fixed BEFORE it allocates anything.

A file states its own size (HDF5 shape and dtype, WFDB signal count x length x samples per frame,
DICOM channels x samples, DEFLATE streams): a hostile file states a small one and decodes to
gigabytes. Every reader checks what the file declares against these limits first, and refuses with
``InvalidRecording(reason=DECODE_LIMIT)`` (HTTP 422 at the gateway) when it is above them.

The limits derive from ``MAX_RECORDING_BYTES``: an accepted recording is encoded as int16 samples,
so a file holding more sample values than ``MAX_RECORDING_BYTES`` can never become one (the bound
leaves 2x room for extra channels: each value costs 2 bytes once encoded).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.sizes import DEFAULT_MAX_RECORDING_BYTES
from schemas.errors import InvalidRecording

__all__ = [
    "ReadLimits", "DEFAULT_LIMITS", "DECODE_LIMIT", "FORBIDDEN_CONTENT", "UNSUPPORTED_VARIANT",
    "CHECKSUM_MISMATCH", "INCONSISTENT_SAMPLING", "refuse_above",
]  # fmt: skip

DECODE_LIMIT = "decode_limit_exceeded"
FORBIDDEN_CONTENT = "forbidden_content"  # links to other files, DTDs, entities: never followed
# reason codes the vendor readers share (ingest/readers/{muse,sierra,scp,edf}.py)
UNSUPPORTED_VARIANT = "unsupported_variant"  # a known format in a version or encoding not decoded
CHECKSUM_MISMATCH = "checksum_mismatch"  # the file's own CRC says its waveform bytes are damaged
INCONSISTENT_SAMPLING = "inconsistent_sampling"  # leads at different rates or not simultaneous


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what one file may decode to."""

    max_values: int  # sample values over all channels (and frames) of one file
    max_decoded_bytes: int  # bytes a reader may inflate or materialise for one file

    @classmethod
    def for_recording_bytes(cls, max_recording_bytes: int) -> ReadLimits:
        """The limits that admit every recording of at most ``max_recording_bytes`` (encoded)."""
        values = max(max_recording_bytes, 1)
        return cls(max_values=values, max_decoded_bytes=8 * values + 16 * 1024 * 1024)


DEFAULT_LIMITS = ReadLimits.for_recording_bytes(DEFAULT_MAX_RECORDING_BYTES)


def refuse_above(name: str, what: str, amount: int, limit: int) -> None:
    """Raise ``InvalidRecording(reason=DECODE_LIMIT)`` when ``amount`` (declared by the file) > ``limit``."""
    if amount > limit:
        raise InvalidRecording(
            f"{name}: {what} is {amount:,}, above the limit of {limit:,} (file too large to decode safely)",
            reason=DECODE_LIMIT,
        )
