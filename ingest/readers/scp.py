"""SCP-ECG (EN 1064 / ISO 11073-91064) files, read with ecgdatakit's ``SCPECGParser``.

A record is a 6-byte preamble (CRC, record size) and sections with a 16-byte header each; Section 0
points to the others, Section 3 defines the leads (first and last sample, lead code), Section 6
holds the rhythm data (amplitude multiplier in nV, sample interval in µs, optional first or second
differences), Section 2 the Huffman tables (default table or the file's own), Sections 4 and 5
the reference beat used for reference-beat subtraction, Sections 7 to 11 the device's measurements
and statements (to ``Recording.vendor``). Decoded: uncompressed and Huffman-coded data, first and
second differences, reference-beat subtraction. Refused with ``unsupported_variant``: bimodal
compression (decimated rhythm data) and SCP-ECG v3 long-term data (Section 12 only).
Non-simultaneous leads (a 3-channel cart's four 2.5-s groups) are refused with
``inconsistent_sampling``: they cannot form one 12-lead recording.

Bounds, checked from the headers before the library decodes anything: the file size, the samples
Section 3 declares (rhythm) and Sections 4-5 imply (reference beat), against ``ReadLimits`` (the
library allocates them as declared), and the size of Huffman-coded data, which is decoded bit by
bit in Python (about 0.5 µs a bit). Every section's CRC must match (``checksum_mismatch``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from core.errors import EcgstreamError
from ingest.limits import DEFAULT_LIMITS, INCONSISTENT_SAMPLING, ReadLimits, refuse_above
from ingest.readers.vendor_record import run_library, to_recording
from schemas.errors import InvalidRecording, UnsupportedFormat
from schemas.recording import Recording

__all__ = ["read", "looks_like_scp", "max_file_bytes", "max_huffman_bytes"]

KIND = "SCP-ECG"
_SECTION_HEADER = 16
_POINTER = struct.Struct("<HII")  # section id, length, 1-based index
_DEFAULT_HUFFMAN = 19999
_MARKUP_ALLOWANCE = 1024 * 1024  # demographics, measurements, statements, manufacturer sections


def max_file_bytes(limits: ReadLimits) -> int:
    """The largest SCP-ECG file read: uncompressed int16 samples up to ``max_values``, plus the rest."""
    return 2 * limits.max_values + _MARKUP_ALLOWANCE


def max_huffman_bytes(limits: ReadLimits) -> int:
    """The most Huffman-coded data decoded (bit by bit, in Python): about 4 s at the default limits."""
    return limits.max_values // 4


def looks_like_scp(head: bytes) -> bool:
    """Section 0 at byte 7, whose first pointer describes Section 0 itself (SCP-ECG has no magic)."""
    if len(head) < 32:
        return False
    record_size, sec0_id, sec0_length = _u32(head, 2), _u16(head, 8), _u32(head, 10)
    if sec0_id != 0 or sec0_length < 26 or (sec0_length - _SECTION_HEADER) % 10 or record_size < 6 + sec0_length:
        return False
    first_id, _, first_index = _POINTER.unpack_from(head, 22)
    return first_id == 0 and first_index == 7


def _u32(data: bytes, offset: int) -> int:
    return int(struct.unpack_from("<I", data, offset)[0])


def _u16(data: bytes, offset: int) -> int:
    return int(struct.unpack_from("<H", data, offset)[0])


@dataclass(frozen=True)
class _Lead:
    start: int
    end: int

    @property
    def count(self) -> int:
        return self.end - self.start + 1


def _sections(data: bytes) -> dict[int, bytes]:
    """Section id -> body (after its 16-byte header) for the pointers of Section 0 that fit the file."""
    bodies: dict[int, bytes] = {}
    end = min(6 + _u32(data, 10), len(data))
    for position in range(6 + _SECTION_HEADER, end - _POINTER.size + 1, _POINTER.size):
        section, length, index = _POINTER.unpack_from(data, position)
        if section and length >= _SECTION_HEADER and index and index - 1 + length <= len(data):
            bodies.setdefault(section, data[index - 1 + _SECTION_HEADER : index - 1 + length])
    return bodies


def _leads(section3: bytes) -> list[_Lead]:
    count = section3[0] if section3 else 0
    return [
        _Lead(_u32(section3, 2 + 9 * i), _u32(section3, 6 + 9 * i))
        for i in range(count)
        if 2 + 9 * (i + 1) <= len(section3)
    ]


def _check_declared(data: bytes, name: str, limits: ReadLimits) -> None:
    """Refuse what the headers declare beyond ``limits``, and leads that are not simultaneous.

    Inconsistencies are left to the parser, which reports them precisely.
    """
    sections = _sections(data)
    leads = [lead for lead in _leads(sections.get(3, b"")) if lead.count > 0]
    if not leads:
        return
    refuse_above(name, "the number of samples (Section 3: leads x samples)", sum(lead.count for lead in leads),
                 limits.max_values)  # fmt: skip
    if len({(lead.start, lead.end) for lead in leads}) > 1:
        raise InvalidRecording(
            f"{name}: the leads were not recorded simultaneously (Section 3 gives different sample ranges)",
            reason=INCONSISTENT_SAMPLING,
        )
    section4, section5 = sections.get(4, b""), sections.get(5, b"")
    if len(section4) >= 2 and len(section5) >= 4 and _u16(section5, 2):
        beat = round(_u16(section4, 0) * 1000 / _u16(section5, 2))
        refuse_above(name, "the number of reference beat samples (Sections 4-5: leads x samples)",
                     beat * len(leads), limits.max_values)  # fmt: skip
    section2 = sections.get(2, b"")
    if len(section2) >= 2 and _u16(section2, 0) != 0:
        coded = len(sections.get(5, b"")) + len(sections.get(6, b""))
        refuse_above(name, "the Huffman-coded waveform data in bytes", coded, max_huffman_bytes(limits))


def read(path: Path, *, limits: ReadLimits = DEFAULT_LIMITS) -> Recording:
    """An SCP-ECG file as a normalised 12-lead ``Recording`` in mV, the device's own data in ``vendor``."""
    from ecgdatakit.parsing.parsers.scp_ecg import SCPECGParser

    path = Path(path)
    size = run_library(lambda: path.stat().st_size, path.name, KIND)
    refuse_above(path.name, "the SCP-ECG file size in bytes", size, max_file_bytes(limits))
    data = run_library(path.read_bytes, path.name, KIND)
    if len(data) < 6 + _SECTION_HEADER + _POINTER.size or not looks_like_scp(data):
        raise UnsupportedFormat(f"{path.name}: not an SCP-ECG record (no Section 0 at byte 7)", reason="unreadable")
    run_library(lambda: _check_declared(data, path.name, limits), path.name, KIND)
    record = run_library(lambda: SCPECGParser().parse(path), path.name, KIND)
    try:
        return to_recording(record, kind="scp", system="SCP-ECG", path=path, limits=limits)
    except EcgstreamError:
        raise
    except Exception as exc:  # noqa: BLE001 - a record the parser built oddly still gets a clear answer
        raise UnsupportedFormat(f"{path.name}: unreadable {KIND} ({type(exc).__name__})", reason="unreadable") from exc
