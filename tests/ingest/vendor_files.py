"""Vendor test files: where the real files live, and writers for what no package ships.

Real files: ``tests/ingest/data/vendor/`` (GE MUSE, Philips Sierra; see its README) and the EDF/BDF
test files pyedflib installs. Written here: SCP-ECG records (no installed package ships one; the
layout follows EN 1064:2005 sections 0-3 and 6, CRC-CCITT, and the default Huffman table of its
annex), EDF files of real ECGs (with pyedflib's own writer) and an XLI (LZW) bomb.
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from schemas import STANDARD_LEADS, Recording

VENDOR_DATA = Path(__file__).resolve().parent / "data" / "vendor"
MUSE_FILE = VENDOR_DATA / "ge_muse_guangxi_sinus_rhythm.xml"
MUSE_AS_DICOM = VENDOR_DATA / "ge_muse_guangxi_sinus_rhythm.ecg2dcm.dcm"
SIERRA_FILE = VENDOR_DATA / "philips_sierra_129DYPRG.xml"

SCP_LEAD_CODES = {"I": 1, "II": 2, "V1": 3, "V2": 4, "V3": 5, "V4": 6, "V5": 7, "V6": 8,
                  "III": 61, "aVR": 62, "aVL": 63, "aVF": 64}  # fmt: skip


def pyedflib_file(name: str) -> Path:
    """A real EDF/BDF file installed with pyedflib (``data/`` or ``tests/data/``)."""
    import pyedflib

    root = Path(pyedflib.__file__).parent
    for folder in (root / "data", root / "tests" / "data"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(name)


# --- SCP-ECG ---------------------------------------------------------------------------------


def _crc(data: bytes) -> int:
    return binascii.crc_hqx(data, 0xFFFF)


def _section(number: int, body: bytes, protocol: int = 20) -> bytes:
    if len(body) % 2:
        body += b"\0"
    reserved = b"SCPECG" if number == 0 else b"\0" * 6
    rest = struct.pack("<HIBB", number, 16 + len(body), protocol, protocol) + reserved + body
    return struct.pack("<H", _crc(rest)) + rest


def _default_huffman(values: np.ndarray) -> bytes:
    """Values coded with the SCP-ECG default Huffman table (MSB first)."""
    bits: list[str] = []
    for value in values.tolist():
        magnitude = abs(value)
        if magnitude == 0:
            bits.append("0")
        elif magnitude <= 8:
            bits.append("1" * magnitude + "0" + ("1" if value < 0 else "0"))
        elif -128 <= value <= 127:
            bits.append("1111111110" + format(value & 0xFF, "08b"))
        else:
            bits.append("1111111111" + format(value & 0xFFFF, "016b"))
    text = "".join(bits)
    text += "0" * (-len(text) % 8)
    return int(text, 2).to_bytes(len(text) // 8, "big") if text else b""


def _differences(counts: np.ndarray, order: int) -> np.ndarray:
    if order == 0:
        return counts
    if order == 1:
        return np.concatenate(([counts[0]], np.diff(counts)))
    second = counts[2:] - 2 * counts[1:-1] + counts[:-2]
    return np.concatenate((counts[:2], second))


def _section1(rec: Recording) -> bytes:
    tags = b""

    def tag(number: int, value: bytes) -> None:
        nonlocal tags
        tags += struct.pack("<BH", number, len(value)) + value

    if rec.patient_ref:
        tag(2, rec.patient_ref.encode("ascii") + b"\0")
    if rec.age is not None:
        tag(4, struct.pack("<HB", rec.age, 1))
    if rec.sex:
        tag(8, bytes([1 if rec.sex == "M" else 2]))
    when = rec.acquired_at or datetime(2026, 1, 1, 8, 30, 0)
    tag(25, struct.pack("<HBB", when.year, when.month, when.day))
    tag(26, bytes([when.hour, when.minute, when.second]))
    return tags + struct.pack("<BH", 255, 0)


def write_scp(
    rec: Recording,
    path: Path,
    *,
    leads: Sequence[str] = STANDARD_LEADS,
    avm_nv: int = 1000,
    huffman: bool = False,
    differences: int = 0,
    starts: Sequence[int] | None = None,
    bimodal: bool = False,
    declared_samples: int | None = None,
) -> Path:
    """An SCP-ECG record of ``rec`` (only ``leads``) in counts of ``avm_nv`` nV.

    Hostile variants: ``starts`` (first sample of each lead, for non-simultaneous leads),
    ``bimodal`` (the flag set), ``declared_samples`` (what Section 3 claims, whatever is stored).
    """
    rows = [STANDARD_LEADS.index(name) for name in leads]
    counts = np.round(rec.signal[rows].astype(np.float64) * 1e6 / avm_nv).astype(np.int64)
    n = counts.shape[1]
    first = list(starts) if starts is not None else [1] * len(leads)
    last = [s + (declared_samples or n) - 1 for s in first]
    section3 = bytes([len(leads), 0x04 if starts is None else 0x00]) + b"".join(
        struct.pack("<IIB", s, e, SCP_LEAD_CODES[name]) for name, s, e in zip(leads, first, last, strict=True)
    )
    payloads = []
    for row in counts:
        coded = _differences(row, differences)
        payloads.append(_default_huffman(coded) if huffman else coded.astype("<i2").tobytes())
    interval_us = round(1e6 / rec.fs)
    section6 = struct.pack("<HHBB", avm_nv, interval_us, differences, int(bimodal))
    section6 += b"".join(struct.pack("<H", len(p)) for p in payloads) + b"".join(payloads)
    bodies = {1: _section1(rec), 3: section3, 6: section6}
    if huffman:
        bodies[2] = struct.pack("<H", 19999)
    pointer_count = 12
    index = 7 + 16 + 10 * pointer_count
    pointers, blobs = [struct.pack("<HII", 0, 16 + 10 * pointer_count, 7)], []
    for number in range(1, pointer_count):
        if number in bodies:
            blob = _section(number, bodies[number])
            pointers.append(struct.pack("<HII", number, len(blob), index))
            blobs.append(blob)
            index += len(blob)
        else:
            pointers.append(struct.pack("<HII", number, 0, 0))
    section0 = _section(0, b"".join(pointers))
    body = section0 + b"".join(blobs)
    record = struct.pack("<I", 6 + len(body)) + body
    path.write_bytes(struct.pack("<H", _crc(record)) + record)
    return path


# --- EDF ---------------------------------------------------------------------------------------


def write_edf(
    rec: Recording,
    path: Path,
    *,
    labels: dict[str, str] | None = None,
    unit: str = "uV",
    rates: Sequence[float] | None = None,
    extra: bool = True,
) -> Path:
    """``rec`` as EDF+ with pyedflib's writer: ``labels`` maps the leads written to their labels
    (default all 12 as ``ECG <lead>``), in ``unit``; ``extra`` adds a respiration signal."""
    import pyedflib

    labels = labels or {name: f"ECG {name}" for name in STANDARD_LEADS}
    factor = {"uV": 1000.0, "mV": 1.0, "V": 1e-3, "mmHg": 1.0}[unit]
    signals = [rec.signal[STANDARD_LEADS.index(name)].astype(np.float64) * factor for name in labels]
    headers = []
    for i, label in enumerate(labels.values()):
        rate = rates[i] if rates is not None else rec.fs
        span = max(float(np.abs(signals[i]).max()) * 1.1, 1e-3 if unit == "V" else 1.0)
        exponent = int(np.floor(np.log10(span))) - 1  # two significant digits: fits EDF's 8 characters
        span = round(float(np.ceil(span / 10.0**exponent)) * 10.0**exponent, max(0, -exponent))
        headers.append({
            "label": label, "dimension": unit, "sample_frequency": rate,
            "physical_max": span, "physical_min": -span, "digital_max": 32767, "digital_min": -32768,
        })  # fmt: skip
    if extra:
        signals.append(np.sin(np.arange(rec.n_samples) / rec.fs))
        headers.append({"label": "Resp", "dimension": "Ohm", "sample_frequency": rec.fs, "physical_max": 1.0,
                        "physical_min": -1.0, "digital_max": 32767, "digital_min": -32768})  # fmt: skip
    writer = pyedflib.EdfWriter(str(path), len(signals), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        writer.setSignalHeaders(headers)
        writer.setPatientCode("MRN-7")
        writer.setSex(1 if rec.sex == "M" else 0)
        writer.setStartdatetime(rec.acquired_at or datetime(2026, 1, 1, 8, 30))
        writer.writeSamples(signals)
    finally:
        writer.close()
    return path


# --- XLI ---------------------------------------------------------------------------------------


def xli_bomb(chunks: int = 12, codes: int = 20_000) -> bytes:
    """XLI data whose LZW codes each stand for hundreds of bytes: ~600x expansion per chunk."""
    sequence = [0, *range(256, 1023)] + [1022] * codes
    bits = "".join(format(code, "010b") for code in sequence)
    bits += "0" * (-len(bits) % 8)
    payload = int(bits, 2).to_bytes(len(bits) // 8, "big")
    chunk = struct.pack("<ihh", len(payload), 0, 0) + payload
    return chunk * chunks
