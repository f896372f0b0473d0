"""Format detection (magic bytes and root elements first, then the extension) and ``read_recording``.

XML is told apart by its root element: ``RestingECG`` (GE MUSE), ``restingecgdata`` (Philips
Sierra), anything else goes to the HL7 aECG reader (which names what it found). SCP-ECG has no
magic number: Section 0 at byte 7 pointing to itself identifies it (``readers.scp.looks_like_scp``).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from ingest.limits import DEFAULT_LIMITS, ReadLimits
from ingest.readers import aecg, dicom, edf, muse, scp, sierra, sph, wfdb_format
from schemas.errors import UnsupportedFormat
from schemas.recording import Recording

__all__ = ["FORMATS", "detect_format", "read_recording", "CANDIDATE_SUFFIXES"]

logger = logging.getLogger(__name__)

FORMATS = ("sph_h5", "wfdb", "dicom", "aecg", "muse", "sierra", "scp", "edf")
HDF5_SUFFIXES = {".h5", ".hdf5", ".hdf"}
WFDB_SUFFIXES = {".hea", ".dat", ".mat"}
DICOM_SUFFIXES = {".dcm", ".dicom"}
XML_SUFFIXES = {".xml"}
SCP_SUFFIXES = {".scp"}
EDF_SUFFIXES = {".edf", ".bdf"}
# files a folder walk considers (WFDB records are found by their header)
CANDIDATE_SUFFIXES = HDF5_SUFFIXES | DICOM_SUFFIXES | XML_SUFFIXES | SCP_SUFFIXES | EDF_SUFFIXES | {".hea", ""}
_HEAD_BYTES = 4096  # enough for an XML prolog (declaration, comments, DOCTYPE) before the root element
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)")
XML_ROOTS = {muse.ROOT_TAG.lower(): "muse", sierra.ROOT_TAG.lower(): "sierra"}


def _head(path: Path, size: int = _HEAD_BYTES) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise UnsupportedFormat(
            f"{path.name}: cannot open ({exc.strerror or exc})", reason="unreadable"
        ) from exc


def _looks_like_xml(head: bytes) -> bool:
    """UTF-8 (with or without a BOM) or UTF-16 (either byte order, with or without a BOM) markup."""
    for bom, encoding in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head[2:].decode(encoding, "ignore").encode()
            break
    else:
        if head[:2] in (b"<\x00", b"\x00<"):
            return True
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return text.startswith(b"<")


def _xml_kind(head: bytes) -> str:
    """``muse``, ``sierra`` or ``aecg`` from the first element name after the prolog."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"<\x00", b"\x00<"):
        encoding = "utf-16-le" if head.startswith(b"\xff\xfe") or head[:2] == b"<\x00" else "utf-16-be"
        text = head.decode(encoding, "ignore")
    else:
        text = head.decode("utf-8", "ignore")
    text = re.sub(r"<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", "", text, flags=re.DOTALL)
    match = _ROOT.search(text)
    name = match.group(1).split(":")[-1].lower() if match else ""
    return XML_ROOTS.get(name, "aecg")


def detect_format(path: str | Path) -> str:
    """One of ``FORMATS`` for a file, from its magic bytes first, then its extension."""
    path = Path(path)
    if path.is_dir():
        raise UnsupportedFormat(
            f"{path} is a folder: use ingest.iter_recordings", reason="unsupported_format"
        )
    suffix = path.suffix.lower()
    if suffix in WFDB_SUFFIXES:
        return "wfdb"  # .dat/.mat have no magic; the header next to them decides
    head = _head(path)
    if head.startswith(sph.HDF5_MAGIC):
        return "sph_h5"
    if head[dicom.DICOM_MAGIC_OFFSET : dicom.DICOM_MAGIC_OFFSET + 4] == dicom.DICOM_MAGIC:
        return "dicom"
    if edf.looks_like_edf(head):
        return "edf"
    if scp.looks_like_scp(head):  # before XML: an SCP-ECG record starts with a CRC, which can be "<"
        return "scp"
    if _looks_like_xml(head):
        return _xml_kind(head)
    known = HDF5_SUFFIXES | DICOM_SUFFIXES | XML_SUFFIXES | SCP_SUFFIXES | EDF_SUFFIXES
    if path.with_suffix(".hea").is_file() and suffix not in known:
        return "wfdb"
    expected = {
        **dict.fromkeys(HDF5_SUFFIXES, "HDF5"),
        **dict.fromkeys(DICOM_SUFFIXES, "DICOM"),
        ".xml": "XML",
        ".scp": "SCP-ECG",
        **dict.fromkeys(EDF_SUFFIXES, "EDF/BDF"),
    }
    if suffix in expected:
        raise UnsupportedFormat(
            f"{path.name}: not a valid {expected[suffix]} file (wrong signature)", reason="unreadable"
        )
    raise UnsupportedFormat(
        f"{path.name}: unknown ECG file format (supported: SPH .h5, WFDB .hea/.dat/.mat, DICOM .dcm, "
        "HL7 aECG, GE MUSE and Philips Sierra .xml, SCP-ECG .scp, EDF/BDF .edf/.bdf)"
    )


_READERS = {
    "sph_h5": sph.read, "wfdb": wfdb_format.read, "dicom": dicom.read, "aecg": aecg.read,
    "muse": muse.read, "sierra": sierra.read, "scp": scp.read, "edf": edf.read,
}  # fmt: skip


def read_recording(path: str | Path, *, limits: ReadLimits = DEFAULT_LIMITS) -> Recording:
    """The normalised ``Recording`` of one ECG file (12 leads, mV, float32, native rate).

    ``limits`` bound what the reader may decode (see ``ingest.limits``); untrusted files should
    also be read in a separate process (``ingest.sandbox.read_isolated``).

    Raises ``UnsupportedFormat`` (unknown or unreadable file) or ``InvalidRecording`` (e.g. missing
    leads); never a third-party exception. The recording is not validated: call
    ``schemas.validate_recording`` (the publisher does).
    """
    path = Path(path)
    kind = detect_format(path)
    recording = _READERS[kind](path, limits=limits)
    # No file name in logs: hospital exports often name files after the patient.
    logger.debug("read recording", extra={"format": kind, "n_samples": recording.n_samples})
    return recording
