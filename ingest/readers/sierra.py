"""Philips Sierra / PageWriter / TraceMasterVue XML (``restingecgdata``), read with ecgdatakit.

Document types ``SierraECG`` and ``PhilipsECG``, versions 1.03 to 1.04.02 (ecgdatakit's
``SierraXMLParser``; any other version is refused with ``unsupported_variant``). Rhythm waveforms
(``parsedwaveforms``) are Base64 16-bit samples, uncompressed or XLI-compressed (LZW + second
differences; in XLI data leads III, aVR, aVL and aVF are stored as residuals and rebuilt from I
and II), scaled by the file's resolution in µV. The file's global measurements, interpretation
statements, severity and representative beats go to ``Recording.vendor``. PageWriter rhythm data
ends with about a second of calibration (0 V, then a 1 mV pulse, identical in every lead, which
no 12-lead ECG can be: Einthoven's III = II - I forbids it): those trailing samples are cut.

Bounds, before the library decodes anything: the file size (``muse.max_file_bytes``: an
uncompressed waveform then holds at most ``ReadLimits.max_values`` samples), and for XLI data the
decoded size, counted without decoding (``ingest.readers.xli``), at most 2 bytes per allowed
sample. The document is parsed first with the same XML policy as GE MUSE (defusedxml: a DOCTYPE
is accepted, entity declarations and external entities are refused), so no entity ever reaches
the library's own parser (xmltodict).
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from core.errors import EcgstreamError
from ingest.identity import content_recording_id
from ingest.limits import DEFAULT_LIMITS, ReadLimits, refuse_above
from ingest.readers import xli
from ingest.readers.muse import max_file_bytes
from ingest.readers.vendor_record import run_library, to_recording
from schemas.errors import UnsupportedFormat
from schemas.recording import Recording

__all__ = ["read", "without_calibration", "ROOT_TAG"]

ROOT_TAG = "restingecgdata"
KIND = "Philips Sierra XML"


def _document(path: Path, limits: ReadLimits) -> ET.Element:
    """The parsed document (namespaces stripped), after the size bound and the XML policy."""
    from ecgdatakit.parsing.helpers.xml import parse_xml_root

    size = run_library(lambda: path.stat().st_size, path.name, KIND)
    refuse_above(path.name, "the XML file size in bytes", size, max_file_bytes(limits))
    root = run_library(lambda: parse_xml_root(path.read_bytes()), path.name, KIND)
    if root.tag.lower() != ROOT_TAG:
        raise UnsupportedFormat(f"{path.name}: XML root is {root.tag}, not {ROOT_TAG}", reason="unsupported_format")
    return root


def _check_xli(root: ET.Element, name: str, limits: ReadLimits) -> None:
    """Refuse XLI data that would decode to more than 2 bytes per allowed sample."""
    waveforms = next((el for el in root.iter() if el.tag.lower() == "parsedwaveforms"), None)
    if waveforms is None:
        return  # the parser reports the missing element
    method = (waveforms.get("compressmethod") or waveforms.get("compression") or "").strip().upper()
    if method != "XLI" or (waveforms.get("dataencoding") or "").strip() != "Base64":
        return
    try:
        data = base64.b64decode("".join("".join(waveforms.itertext()).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnsupportedFormat(f"{name}: parsedwaveforms is not valid Base64 ({exc})", reason="unreadable") from None
    limit = 2 * limits.max_values
    refuse_above(name, "the decompressed (XLI) waveform size in bytes", xli.decoded_size(data, limit), limit)


def read(path: Path, *, limits: ReadLimits = DEFAULT_LIMITS) -> Recording:
    """A Philips Sierra XML file as a normalised 12-lead ``Recording`` in mV, vendor data in ``vendor``."""
    from ecgdatakit.parsing.parsers.sierra_xml import SierraXMLParser

    path = Path(path)
    _check_xli(_document(path, limits), path.name, limits)
    record = run_library(lambda: SierraXMLParser().parse(path), path.name, KIND)
    try:
        rec = to_recording(
            record, kind="sierra", system="Philips Sierra", path=path, limits=limits, qtc=_qtc(record.annotations)
        )
        rec.signal = without_calibration(rec.signal)
        rec.recording_id = content_recording_id("sierra", path.stem, rec.signal, rec.fs)
        return rec
    except EcgstreamError:
        raise
    except Exception as exc:  # noqa: BLE001 - a record the parser built oddly still gets a clear answer
        raise UnsupportedFormat(f"{path.name}: unreadable {KIND} ({type(exc).__name__})", reason="unreadable") from exc


def without_calibration(signal: np.ndarray) -> np.ndarray:
    """``signal`` (12, N) without its trailing samples where every lead has the same value."""
    differs = np.flatnonzero(~(signal == signal[:1]).all(axis=0))
    end = int(differs[-1]) + 1 if differs.size else signal.shape[-1]
    return signal[:, :end] if end < signal.shape[-1] else signal


def _qtc(annotations: dict[str, str]) -> str | None:
    """A 1.03 file's ``meanqtc`` ("393 ms (formula not stated)" in ecgdatakit's annotations)."""
    text = str(annotations.get("qtc") or "").split(" ", 1)[0]
    return text or None
