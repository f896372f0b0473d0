"""GE MUSE, Philips Sierra, SCP-ECG and EDF readers: real vendor files, and hostile ones.

Real files: tests/ingest/data/vendor (a GE MUSE 9 export, its DICOM conversion by the independent
``ecg2dcm`` and a Philips PageWriter SierraECG 1.03 XLI file; see that folder's README) and the
EDF/BDF files pyedflib installs. No installed package ships an SCP-ECG file, so SCP-ECG files are
written by ``tests/ingest/vendor_files.write_scp`` from a real LUDB record (said in each test), and
ECG EDF files by pyedflib's own writer from the same record. Every hostile file is refused with
its specific reason; the worst ones are also read in the sandbox with its peak memory asserted.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from core.errors import EcgstreamError
from ingest import detect_format, read_recording
from ingest.limits import (
    CHECKSUM_MISMATCH,
    DECODE_LIMIT,
    FORBIDDEN_CONTENT,
    INCONSISTENT_SAMPLING,
    UNSUPPORTED_VARIANT,
    ReadLimits,
)
from ingest.readers import scp, xli
from ingest.readers.edf import edf_lead_name
from ingest.readers.sierra import without_calibration
from ingest.sandbox import read_isolated_measured
from schemas import STANDARD_LEADS, InvalidRecording, Recording, validate_recording
from tests.conftest import shared_data_dir
from tests.ingest.vendor_files import (
    MUSE_AS_DICOM,
    MUSE_FILE,
    SIERRA_FILE,
    pyedflib_file,
    write_edf,
    write_scp,
    xli_bomb,
)

MiB = 1024 * 1024
PEAK_RSS_BOUND = 500 * MiB
EIGHT = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
SMALL = ReadLimits(max_values=20_000, max_decoded_bytes=1 * MiB)


def refused(path: Path, reason: str, phrase: str = "", limits: ReadLimits | None = None) -> InvalidRecording:
    """Assert ``path`` is refused with ``reason`` (and ``phrase`` in the message); return the error."""
    with pytest.raises(InvalidRecording) as caught:
        read_recording(path) if limits is None else read_recording(path, limits=limits)
    assert caught.value.reason == reason, caught.value.message
    assert phrase in caught.value.message
    return caught.value


def refused_in_sandbox(path: Path, reason: str) -> None:
    with pytest.raises(InvalidRecording) as caught:
        read_isolated_measured(path)
    assert caught.value.reason == reason, caught.value.message
    peak = caught.value.peak_rss_bytes  # type: ignore[attr-defined]
    print(f"\nVENDOR-BOMB {path.name}: parser peak RSS {peak / MiB:.0f} MiB")
    assert 0 < peak < PEAK_RSS_BOUND


def einthoven_error(signal: np.ndarray) -> float:
    """Largest deviation (mV) of the limb leads from III = II - I and aVR = -(I + II) / 2."""
    lead_i, lead_ii, lead_iii, avr = signal[0], signal[1], signal[2], signal[3]
    return float(max(np.abs(lead_iii - (lead_ii - lead_i)).max(), np.abs(avr + (lead_i + lead_ii) / 2).max()))


@pytest.fixture(scope="module")
def real_ecg() -> Recording:
    """A real 12-lead ECG (LUDB record 1, 500 Hz, 10 s) to write SCP-ECG and EDF files from."""
    return read_recording(shared_data_dir("ludb") / "1.hea")


def muse_text() -> str:
    return MUSE_FILE.read_text("utf-8")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


# --- detection -------------------------------------------------------------------------------


def test_formats_are_detected_by_content(tmp_path: Path, real_ecg: Recording) -> None:
    renamed = tmp_path / "export.dat.bin"
    renamed.write_bytes(MUSE_FILE.read_bytes())
    assert detect_format(MUSE_FILE) == detect_format(renamed) == "muse"
    assert detect_format(SIERRA_FILE) == "sierra"
    scp_file = write_scp(real_ecg, tmp_path / "ecg.bin")
    assert detect_format(scp_file) == "scp"
    crafted = tmp_path / "crc.scp"  # a record CRC that begins with "<" once made it look like XML
    crafted.write_bytes(b"<\x8b" + scp_file.read_bytes()[2:])
    assert detect_format(crafted) == "scp"
    assert detect_format(pyedflib_file("test_generator.edf")) == "edf"
    assert detect_format(pyedflib_file("test_generator.bdf")) == "edf"
    utf16 = tmp_path / "utf16.xml"
    utf16.write_bytes(SIERRA_FILE.read_text("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
    assert detect_format(utf16) == "sierra"


# --- GE MUSE ---------------------------------------------------------------------------------


def test_real_muse_export_with_its_doctype_is_read_with_the_carts_own_findings() -> None:
    assert '<!DOCTYPE RestingECG SYSTEM "restecg.dtd">' in muse_text()  # the line issue 19 reported refused
    rec = read_recording(MUSE_FILE)
    validate_recording(rec)
    assert rec.signal.shape == (12, 5000) and rec.fs == 500.0 and rec.leads == STANDARD_LEADS
    assert (rec.age, rec.sex, rec.patient_ref, rec.device_id) == (11, "M", "00000000", "51")
    assert rec.acquired_at == datetime(2024, 1, 1, 10, 35, 17, tzinfo=UTC)
    assert einthoven_error(rec.signal) < 1e-5  # III, aVR, aVL, aVF derived from the 8 stored leads
    assert 0.5 < np.abs(rec.signal[1]).max() < 3.0  # lead II in mV: 4.88 µV per count applied
    vendor = rec.vendor
    assert vendor is not None and vendor.system == "GE MUSE" and vendor.status == "confirmed"
    assert vendor.measurements == {
        "heart_rate_bpm": 97, "rr_mean_ms": 616, "pr_ms": 122, "qrs_ms": 74, "qt_ms": 328, "qtc_ms": 417,
        "qtc_fridericia_ms": 384, "p_axis_deg": 31, "qrs_axis_deg": 63, "t_axis_deg": 49,
    }  # fmt: skip
    assert vendor.statements == ("窦性心律", "ST段抬高（提示心室早期复极）")
    assert vendor.median is not None and vendor.median.shape == (12, 600) and vendor.median_fs == 500.0
    assert einthoven_error(vendor.median) < 1e-5


def test_real_muse_equals_an_independent_converters_dicom_of_it() -> None:
    """ecg2dcm decoded the same export to DICOM (its own Base64 + scaling code): same microvolts."""
    ours, theirs = read_recording(MUSE_FILE), read_recording(MUSE_AS_DICOM)
    assert ours.signal.shape == theirs.signal.shape and ours.fs == theirs.fs
    stored = [STANDARD_LEADS.index(name) for name in EIGHT]
    assert np.abs(ours.signal[stored] - theirs.signal[stored]).max() < 1e-6
    assert np.abs(ours.signal - theirs.signal).max() < 0.003  # derived leads: DICOM keeps integer counts


MUSE_ENTITY_ATTACKS = {
    "internal entity expansion": (
        '<!DOCTYPE RestingECG [<!ENTITY site "Hospital Name">]>', "<SiteName>&site;</SiteName>"
    ),
    "billion laughs": (
        '<!DOCTYPE RestingECG [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
        "<SiteName>&d;</SiteName>",
    ),
    "external SYSTEM entity": (
        '<!DOCTYPE RestingECG SYSTEM "restecg.dtd" [<!ENTITY site SYSTEM "file://{secret}">]>',
        "<SiteName>&site;</SiteName>",
    ),
    "external parameter entity": (
        '<!DOCTYPE RestingECG [<!ENTITY % dtd SYSTEM "file://{secret}"> %dtd;]>', "<SiteName>x</SiteName>"
    ),
}


@pytest.mark.parametrize("attack", sorted(MUSE_ENTITY_ATTACKS))
def test_muse_entities_are_refused_and_never_expanded(tmp_path: Path, attack: str) -> None:
    secret = tmp_path / "server-secret.txt"
    secret.write_text("TOP-SECRET-SERVER-FILE")
    doctype, site = (part.replace("{secret}", str(secret)) for part in MUSE_ENTITY_ATTACKS[attack])
    text = muse_text().replace('<!DOCTYPE RestingECG SYSTEM "restecg.dtd">', doctype)
    text = text.replace("<SiteName>Hospital Name</SiteName>", site)
    path = write(tmp_path, "attack.xml", text)
    assert detect_format(path) == "muse"
    error = refused(path, FORBIDDEN_CONTENT, "entity")
    assert "TOP-SECRET" not in error.message


def test_muse_wrong_base64_truncation_and_damaged_leads(tmp_path: Path) -> None:
    text = muse_text()
    first = re.search(r"<WaveFormData>(.*?)</WaveFormData>", text, re.DOTALL)
    assert first is not None
    bad = text[: first.start(1)] + "\n!!!! not base64 !!!!\n" + text[first.end(1) :]
    refused(write(tmp_path, "b64.xml", bad), "unreadable", "Base64")
    refused(write(tmp_path, "cut.xml", text[: len(text) * 6 // 10]), "unreadable", "GE MUSE")
    payload = base64.b64decode("".join(first.group(1).split()))
    flipped = base64.b64encode(bytes([payload[0] ^ 0x01]) + payload[1:]).decode()
    damaged = text[: first.start(1)] + flipped + text[first.end(1) :]
    refused(write(tmp_path, "crc.xml", damaged), CHECKSUM_MISMATCH, "CRC32")


def test_muse_declared_sizes_units_and_rates_are_checked(tmp_path: Path) -> None:
    text = muse_text()
    huge = text.replace("<LeadSampleCountTotal>5000</LeadSampleCountTotal>",
                        "<LeadSampleCountTotal>2000000000</LeadSampleCountTotal>", 1)  # fmt: skip
    refused(write(tmp_path, "count.xml", huge), "unreadable", "LeadSampleCountTotal")
    refused(MUSE_FILE, DECODE_LIMIT, "number of samples is 40,000", limits=SMALL)  # 8 leads x 5000
    padded = text.replace("<RestingECG>", "<RestingECG><!--" + "x" * (2 * MiB) + "-->", 1)
    refused(write(tmp_path, "padded.xml", padded), DECODE_LIMIT, "XML file size", limits=SMALL)  # before parsing
    units = text.replace("<LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits>",
                         "<LeadAmplitudeUnits>FURLONGS</LeadAmplitudeUnits>")  # fmt: skip
    refused(write(tmp_path, "units.xml", units), "implausible_amplitude", "voltage unit")
    no_rate = re.sub(r"<SampleBase>500</SampleBase>", "<SampleBase>0</SampleBase>", text)
    refused(write(tmp_path, "rate.xml", no_rate), "unreadable", "SampleBase")


# --- Philips Sierra --------------------------------------------------------------------------


def test_real_sierra_xli_file_is_decoded_with_the_carts_statements() -> None:
    rec = read_recording(SIERRA_FILE)
    validate_recording(rec)
    assert rec.fs == 500.0 and rec.signal.shape == (12, 5264)  # 11 s stored, the calibration second cut
    assert (rec.age, rec.sex, rec.patient_ref) == (50, "M", "1112010721168bdc")
    assert rec.acquired_at == datetime(2011, 12, 1, 7, 27, 34, tzinfo=UTC)
    assert einthoven_error(rec.signal) <= 0.0101  # XLI residual leads rebuilt: the cart's rounding, <= 2 counts
    vendor = rec.vendor
    assert vendor is not None and vendor.system == "Philips Sierra"
    assert (vendor.status, vendor.severity) == ("machine", "ABNORMAL")
    assert vendor.measurements == {"heart_rate_bpm": 41, "pr_ms": 151, "qrs_ms": 135, "qt_ms": 476, "qtc_ms": 393,
                                   "p_axis_deg": 66, "qrs_axis_deg": -21, "t_axis_deg": 59}  # fmt: skip
    assert vendor.statements[0] == "Sinus bradycardia (rate< 50)" and ">>> Acute MI <<<" in vendor.statements


def test_sierra_calibration_tail_is_cut_only_where_every_lead_is_equal() -> None:
    signal = np.zeros((12, 10), dtype=np.float32)
    signal[:, :6] = np.arange(12)[:, None]  # leads differ for 6 samples
    signal[:, 6:8] = 1.0  # then a pulse in every lead, then 0 V
    assert without_calibration(signal).shape == (12, 6)
    signal[3, 9] = 0.2
    assert without_calibration(signal).shape == (12, 10)


def sierra_waveform(text: str) -> re.Match[str]:
    match = re.search(r"(<parsedwaveforms[^>]*>)(.*?)(</parsedwaveforms>)", text, re.DOTALL)
    assert match is not None
    return match


def test_xli_decoded_size_matches_the_decoder_and_counts_a_bomb_without_decoding_it() -> None:
    from ecgdatakit.parsing.codecs.lzw import LzwDecoder

    data = base64.b64decode("".join(sierra_waveform(SIERRA_FILE.read_text()).group(2).split()))
    offset, decoded = 0, 0
    while offset < len(data):
        size = int.from_bytes(data[offset : offset + 4], "little")
        decoded += len(LzwDecoder(data[offset + 8 : offset + 8 + size], bits=xli.CODE_BITS).read_all())
        offset += 8 + size
    assert xli.decoded_size(data, 10**9) == decoded >= 12 * 5500 * 2  # 12 leads of 5,500 16-bit codes at least
    bomb = xli_bomb(chunks=12)
    assert len(bomb) < 400_000 and xli.decoded_size(bomb, 10**12) > 180_000_000  # ~600x


def test_sierra_hostile_files(tmp_path: Path) -> None:
    text = SIERRA_FILE.read_text("utf-8")
    wave = sierra_waveform(text)
    bomb = base64.b64encode(xli_bomb()).decode()
    bombed = write(tmp_path, "bomb.xml", text[: wave.start(2)] + bomb + text[wave.end(2) :])
    refused(bombed, DECODE_LIMIT, "decompressed (XLI)")
    refused_in_sandbox(bombed, DECODE_LIMIT)
    version = text.replace("<documentversion>1.03</documentversion>", "<documentversion>1.07</documentversion>")
    refused(write(tmp_path, "version.xml", version), UNSUPPORTED_VARIANT, "1.07")
    not_b64 = text[: wave.start(2)] + "%%% no base64 here %%%" + text[wave.end(2) :]
    refused(write(tmp_path, "b64.xml", not_b64), "unreadable", "Base64")
    refused(write(tmp_path, "cut.xml", text[: len(text) // 2]), "unreadable", "Sierra")
    entity = text.replace('<?xml version="1.0" encoding="UTF-8"?>',
                          '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE restingecgdata [<!ENTITY e "x">]>')  # fmt: skip
    refused(write(tmp_path, "entity.xml", entity.replace("<lastname></lastname>", "<lastname>&e;</lastname>")),
            FORBIDDEN_CONTENT)  # fmt: skip
    refused(SIERRA_FILE, DECODE_LIMIT, "", limits=SMALL)
    doctype = text.replace('<?xml version="1.0" encoding="UTF-8"?>',
                           '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE restingecgdata SYSTEM "sierra.dtd">')  # fmt: skip
    assert read_recording(write(tmp_path, "doctype.xml", doctype)).signal.shape == (12, 5264)


# --- SCP-ECG (files written by vendor_files.write_scp: no installed package ships a real one) ----


@pytest.mark.parametrize(
    "options",
    [{}, {"huffman": True}, {"huffman": True, "differences": 2}, {"differences": 1, "avm_nv": 2500}],
    ids=["uncompressed", "huffman", "huffman-second-differences", "first-differences"],
)
def test_scp_written_from_a_real_ecg_reads_back(tmp_path: Path, real_ecg: Recording, options: dict) -> None:
    path = write_scp(real_ecg, tmp_path / "ecg.scp", **options)
    rec = read_recording(path)
    validate_recording(rec)
    step = options.get("avm_nv", 1000) / 1e6
    assert rec.fs == real_ecg.fs and rec.signal.shape == real_ecg.signal.shape
    assert np.abs(rec.signal - real_ecg.signal).max() <= step / 2 + 1e-6  # rounding to whole counts only
    assert (rec.age, rec.sex) == (real_ecg.age, real_ecg.sex)
    assert rec.vendor is not None and rec.vendor.system == "SCP-ECG"


def test_scp_with_8_leads_derives_the_limb_leads(tmp_path: Path, real_ecg: Recording) -> None:
    rec = read_recording(write_scp(real_ecg, tmp_path / "ecg8.scp", leads=EIGHT, huffman=True, differences=2))
    stored = [STANDARD_LEADS.index(name) for name in EIGHT]
    assert np.abs(rec.signal[stored] - real_ecg.signal[stored]).max() <= 0.0005 + 1e-6
    assert einthoven_error(rec.signal) < 1e-5


def test_scp_hostile_files(tmp_path: Path, real_ecg: Recording) -> None:
    huge = write_scp(real_ecg, tmp_path / "huge.scp", huffman=True, declared_samples=2**31)
    refused(huge, DECODE_LIMIT, "Section 3")
    refused_in_sandbox(huge, DECODE_LIMIT)
    staggered = write_scp(real_ecg, tmp_path / "groups.scp", starts=[1, 1, 1, 1251, 1251, 1251] + [2501] * 6)
    refused(staggered, INCONSISTENT_SAMPLING, "simultaneously")
    refused(write_scp(real_ecg, tmp_path / "bimodal.scp", bimodal=True), UNSUPPORTED_VARIANT, "bimodal")
    good = write_scp(real_ecg, tmp_path / "good.scp").read_bytes()
    (tmp_path / "cut.scp").write_bytes(good[: len(good) // 2])
    refused(tmp_path / "cut.scp", "unreadable", "SCP-ECG")
    damaged = bytearray(good)
    damaged[-100] ^= 0xFF
    (tmp_path / "crc.scp").write_bytes(bytes(damaged))
    refused(tmp_path / "crc.scp", CHECKSUM_MISMATCH, "CRC")
    coded = write_scp(real_ecg, tmp_path / "coded.scp", huffman=True)
    refused(coded, DECODE_LIMIT, "Huffman", limits=ReadLimits(max_values=80_000, max_decoded_bytes=MiB))
    assert scp.max_huffman_bytes(ReadLimits(max_values=80_000, max_decoded_bytes=MiB)) < coded.stat().st_size


# --- EDF / BDF -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["test_generator.edf", "test_generator.bdf", "test_legacy.edf",
                                  "test_utf8.edf", "test_subsecond.edf"])  # fmt: skip
def test_real_pyedflib_files_without_ecg_leads_are_refused_by_name(name: str) -> None:
    """pyedflib's real EDF/BDF test files hold generator signals and EEG: no ECG lead to read."""
    error = refused(pyedflib_file(name), "missing_leads", "no ECG lead")
    assert "'" in error.message  # names the signals it found


def test_edf_from_a_real_ecg_reads_back_in_mv(tmp_path: Path, real_ecg: Recording) -> None:
    """An EDF+ written by pyedflib's writer from LUDB record 1 (µV, plus a respiration signal)."""
    rec = read_recording(write_edf(real_ecg, tmp_path / "ecg.edf"))
    validate_recording(rec)
    assert rec.fs == 500.0 and rec.signal.shape == (12, 5000)
    assert np.abs(rec.signal - real_ecg.signal).max() < 0.001  # 16-bit quantisation of each lead's range
    assert (rec.sex, rec.patient_ref) == (real_ecg.sex, "MRN-7")


@pytest.mark.parametrize("unit", ["uV", "mV", "V"])
def test_edf_units_and_label_spellings(tmp_path: Path, real_ecg: Recording, unit: str) -> None:
    spellings = ["EKG-I", "ECG II", "Lead V1", "ECG C2", "ECG_V3-REF", "v4", "MDC_ECG_LEAD_V5", "ECGV6"]
    labels = dict(zip(EIGHT, spellings, strict=True))
    rec = read_recording(write_edf(real_ecg, tmp_path / f"{unit}.edf", labels=labels, unit=unit))
    stored = [STANDARD_LEADS.index(name) for name in EIGHT]
    assert np.abs(rec.signal[stored] - real_ecg.signal[stored]).max() < 0.001
    assert einthoven_error(rec.signal) < 1e-5


def test_edf_lead_names() -> None:
    assert [edf_lead_name(label) for label in
            ("ECG I", "EKG aVR", "ecg-avl", "DII", "ECG C6", "C3", "Fp1", "EDF Annotations", "Resp", "II-REF")] == [
        "I", "aVR", "aVL", "II", "V6", None, None, None, None, "II"]  # fmt: skip


def test_edf_hostile_files(tmp_path: Path, real_ecg: Recording) -> None:
    rates = [500.0] * 11 + [250.0]
    refused(write_edf(real_ecg, tmp_path / "rates.edf", rates=rates), INCONSISTENT_SAMPLING, "sampling rates")
    refused(write_edf(real_ecg, tmp_path / "mmhg.edf", unit="mmHg"), "implausible_amplitude", "mmHg")
    good = write_edf(real_ecg, tmp_path / "good.edf").read_bytes()
    (tmp_path / "cut.edf").write_bytes(good[: len(good) - 1000])
    refused(tmp_path / "cut.edf", "unreadable", "EDF")
    header = bytearray(good)
    header[236:244] = b"99999999"  # data records: gigabytes declared, the file's size disagrees
    (tmp_path / "records.edf").write_bytes(bytes(header))
    refused(tmp_path / "records.edf", "unreadable", "EDF")
    discontinuous = bytearray(good)
    discontinuous[192:197] = b"EDF+D"
    (tmp_path / "gaps.edf").write_bytes(bytes(discontinuous))
    refused(tmp_path / "gaps.edf", UNSUPPORTED_VARIANT, "discontinuous")
    refused(tmp_path / "good.edf", DECODE_LIMIT, "ECG leads x samples", limits=SMALL)


def test_the_sandbox_returns_vendor_recordings_with_their_findings(tmp_path: Path, real_ecg: Recording) -> None:
    """The gateway's path: a forkserver child reads the file and sends the Recording back."""
    for path in (MUSE_FILE, SIERRA_FILE, write_scp(real_ecg, tmp_path / "e.scp"), write_edf(real_ecg, tmp_path / "e.edf")):
        isolated = read_isolated_measured(path)
        direct = read_recording(path)
        assert np.array_equal(isolated.recording.signal, direct.signal), path.name
        assert (isolated.recording.vendor is None) == (direct.vendor is None)
        assert isolated.peak_rss_bytes < PEAK_RSS_BOUND
    assert read_isolated_measured(MUSE_FILE).recording.vendor.statements[0] == "窦性心律"  # type: ignore[union-attr]


# --- every real vendor file, every truncation: a clean error, never a crash -----------------


@pytest.mark.parametrize("cut", [0.0, 0.01, 0.3, 0.7, 0.99])
def test_truncated_real_vendor_files_give_clean_errors(tmp_path: Path, cut: float) -> None:
    for source in (MUSE_FILE, SIERRA_FILE, pyedflib_file("test_generator.edf")):
        data = source.read_bytes()
        path = tmp_path / source.name
        path.write_bytes(data[: int(len(data) * cut)])
        with pytest.raises(EcgstreamError):
            read_recording(path)


# --- the vendor's findings beside ours in the CLI ----------------------------------------------


def test_inspect_and_diagnose_show_the_vendors_findings_beside_ours(capsys: pytest.CaptureFixture[str]) -> None:
    from ecgstream.cli import main

    assert main(["inspect", str(MUSE_FILE), "--json"]) == 0
    [ours] = json.loads(capsys.readouterr().out)
    assert ours["vendor"]["system"] == "GE MUSE" and ours["vendor"]["measurements"]["heart_rate_bpm"] == 97
    assert abs(ours["heart_rate_bpm"] - ours["vendor"]["measurements"]["heart_rate_bpm"]) < 3  # measured, ours
    assert main(["inspect", str(SIERRA_FILE)]) == 0
    text = capsys.readouterr().out
    assert "vendor (Philips Sierra; machine, ABNORMAL): heart_rate_bpm 41" in text
    assert "vendor statement: >>> Acute MI <<<" in text
    assert main(["diagnose", str(SIERRA_FILE), "--json", "--threads", "1"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["readable"] is True and result["vendor"]["severity"] == "ABNORMAL"
    assert result["vendor"]["statements"][-1] == ">>> Acute MI <<<" and result["vendor"]["median_samples"] is None
