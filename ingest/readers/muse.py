"""GE MUSE XML (``RestingECG``, restecg.dtd) exports, read with ecgdatakit's ``GEMuseXMLParser``.

What is read: the Rhythm waveform (Base64 little-endian integers per lead, ``LeadSampleSize``
bytes, normally 2), scaled per lead by ``LeadAmplitudeUnitsPerBit`` in ``LeadAmplitudeUnits``
(MICROVOLTS...), at ``SampleBase`` x 10^``SampleExponent`` Hz; MUSE stores 8 leads (I, II, V1-V6)
and III, aVR, aVL, aVF are derived from I and II (``ingest.leads``). The Median waveform, the
cart's ``RestingECGMeasurements`` (VentricularRate, PRInterval, QRSDuration, QTInterval,
QTCorrected, PAxis, RAxis, TAxis) and its ``Diagnosis`` statements go to ``Recording.vendor``.

Safety: MUSE exports begin with ``<!DOCTYPE RestingECG SYSTEM "restecg.dtd">``, which is accepted
(the DTD is never fetched); entity declarations and external entity references are refused
(defusedxml ``forbid_dtd=False, forbid_entities=True, forbid_external=True``, as ecgdatakit parses;
tests/ingest/test_ingest_vendor_readers.py proves both). A lead whose CRC-32 does not match is
refused. The file size is bounded first (``max_file_bytes``): Base64 decodes to 3/4 of its length,
so no lead can then decode to more samples than ``ReadLimits.max_values``.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import EcgstreamError
from ingest.limits import DEFAULT_LIMITS, ReadLimits, refuse_above
from ingest.readers.vendor_record import run_library, to_recording
from schemas.errors import UnsupportedFormat
from schemas.recording import Recording

__all__ = ["read", "max_file_bytes", "ROOT_TAG"]

ROOT_TAG = "RestingECG"
KIND = "GE MUSE XML"
_MARKUP_ALLOWANCE = 1024 * 1024  # demographics, measurements, statements around the waveforms


def max_file_bytes(limits: ReadLimits) -> int:
    """The largest XML file read: its Base64 could hold at most ``max_values`` one-byte samples."""
    return 4 * limits.max_values // 3 + _MARKUP_ALLOWANCE


def read(path: Path, *, limits: ReadLimits = DEFAULT_LIMITS) -> Recording:
    """A GE MUSE XML file as a normalised 12-lead ``Recording`` in mV, vendor data in ``vendor``."""
    from ecgdatakit.parsing.parsers.ge_muse_xml import GEMuseXMLParser

    path = Path(path)
    size = run_library(lambda: path.stat().st_size, path.name, KIND)
    refuse_above(path.name, "the XML file size in bytes", size, max_file_bytes(limits))
    record = run_library(lambda: GEMuseXMLParser().parse(path), path.name, KIND)
    try:
        return to_recording(
            record, kind="muse", system="GE MUSE", path=path, limits=limits, qtc=record.annotations.get("QTCorrected")
        )
    except EcgstreamError:
        raise
    except Exception as exc:  # noqa: BLE001 - a record the parser built oddly still gets a clear answer
        raise UnsupportedFormat(f"{path.name}: unreadable {KIND} ({type(exc).__name__})", reason="unreadable") from exc
