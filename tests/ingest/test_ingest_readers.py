"""Each reader on real files (../shared/data) and on files written with the formats' own writers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import h5py
import numpy as np
import pytest
import wfdb

from ingest import detect_format, iter_recordings, read_recording
from ingest.leads import assemble_leads, normalise_lead_name
from ingest.readers.wfdb_format import parse_comments
from ingest.writers import write_aecg, write_dicom
from schemas import STANDARD_LEADS, InvalidRecording, Recording, UnsupportedFormat, validate_recording
from tests.conftest import shared_data_dir
from tests.ingest.helpers import synthetic_recording

EIGHT_LEADS = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")


def assert_normalised(rec: Recording) -> None:
    assert rec.signal.dtype == np.float32 and rec.signal.shape[0] == 12
    assert rec.leads == STANDARD_LEADS
    validate_recording(rec)


def real_or_synthetic() -> Recording:
    folder = Path(__file__).resolve().parents[3] / "shared" / "data" / "cinc2021"
    if (folder / "E07501.hea").exists():
        return read_recording(folder / "E07501.hea")
    return synthetic_recording(age=65, sex="M")


# --- SPH HDF5 -------------------------------------------------------------------------------


def test_real_sph_record_takes_demographics_from_metadata() -> None:
    folder = shared_data_dir("ptbxl-sph")
    rec = read_recording(folder / "records" / "P00024.h5")
    assert_normalised(rec)
    assert (rec.fs, rec.n_samples, rec.age, rec.sex) == (500.0, 5000, 41, "M")
    assert rec.recording_id.startswith("P00024-") and len(rec.recording_id) == len("P00024-") + 16
    assert read_recording(folder / "records" / "P00024.h5").recording_id == rec.recording_id  # stable


def test_sph_ids_from_two_sites_with_the_same_stem_do_not_collide(tmp_path: Path) -> None:
    """Issue 10, finding 5: every site's SPH data set has an A00001.h5."""
    rng = np.random.default_rng(5)
    site_a = write_sph_h5(tmp_path / "a" / "A00001.h5", rng.normal(0, 0.3, (12, 5000)))
    site_b = write_sph_h5(tmp_path / "b" / "A00001.h5", rng.normal(0, 0.3, (12, 5000)))
    id_a, id_b = read_recording(site_a).recording_id, read_recording(site_b).recording_id
    assert id_a != id_b and id_a.startswith("A00001-") and id_b.startswith("A00001-")
    assert read_recording(site_a).recording_id == id_a


def write_sph_h5(path: Path, signal: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as handle:
        handle.create_dataset("ecg", data=signal.astype(np.float16))
    return path


def test_sph_dataset_folder(tmp_path: Path) -> None:
    folder = tmp_path / "sph"
    for ecg_id, seed in (("A1", 1), ("A2", 2)):
        write_sph_h5(folder / "records" / f"{ecg_id}.h5", synthetic_recording(seed=seed).signal)
    (folder / "metadata.csv").write_text(
        "ECG_ID,AHA_Code,Patient_ID,Age,Sex,N,Date\nA1,1,1,61,F,5000,2020-01-01\n"
        "A2,1,2,33,M,5000,2020-01-02\nA3,1,3,40,M,5000,2020-01-03\n"
    )
    items = list(iter_recordings([folder]))
    assert [Path(source).name for source, _ in items] == ["A1.h5", "A2.h5", "A3.h5"]
    first, second, missing = (item for _, item in items)
    assert (first.age, first.sex, second.age, second.sex) == (61, "F", 33, "M")
    assert_normalised(first)
    assert isinstance(missing, InvalidRecording) and "absent" in str(missing)


def test_sph_h5_without_ecg_dataset(tmp_path: Path) -> None:
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("other", data=np.zeros(3))
    with pytest.raises(UnsupportedFormat, match="no 'ecg' dataset"):
        read_recording(path)


# --- WFDB -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".hea", ".mat"])
def test_real_cinc2021_mat_records(suffix: str) -> None:
    folder = shared_data_dir("cinc2021")
    recordings = [read_recording(path.with_suffix(suffix)) for path in sorted(folder.glob("*.hea"))]
    assert len(recordings) == 10
    for rec in recordings:
        assert_normalised(rec)
        assert rec.fs == 500 and rec.age is not None and rec.sex in ("M", "F")
    first = recordings[0]
    assert (first.source, first.age, first.sex) == ("E07501.hea", 65, "M")
    assert len({rec.recording_id for rec in recordings}) == 10
    assert read_recording(folder / "E07501.hea").recording_id == first.recording_id  # stable across reads
    assert first.signal[0, 0] == pytest.approx(0.126, abs=1e-6)  # 126 counts / 1000 per mV


def test_real_ludb_lower_case_leads() -> None:
    folder = shared_data_dir("ludb")
    rec = read_recording(folder / "1.dat")
    assert_normalised(rec)
    assert (rec.age, rec.sex, rec.n_samples) == (51, "F", 5000)
    raw = wfdb.rdrecord(str(folder / "1"))
    np.testing.assert_allclose(rec.signal[3], raw.p_signal[:, raw.sig_name.index("avr")], atol=1e-6)


def test_wfdb_written_in_microvolts_with_8_leads(tmp_path: Path) -> None:
    rec = synthetic_recording(seed=9)
    rows = [STANDARD_LEADS.index(name) for name in EIGHT_LEADS]
    wfdb.wrsamp(
        "rec8", fs=500, units=["uV"] * 8, sig_name=[n.lower() for n in EIGHT_LEADS],
        p_signal=(rec.signal[rows].T * 1000.0).astype(np.float64), fmt=["16"] * 8,
        adc_gain=[1.0] * 8, baseline=[0] * 8, comments=["Age: 47", "Sex: Female"], write_dir=str(tmp_path),
    )  # fmt: skip
    back = read_recording(tmp_path / "rec8.hea")
    assert_normalised(back)
    assert (back.age, back.sex) == (47, "F")
    np.testing.assert_allclose(back.signal, rec.signal, atol=0.002)  # 1 µV counts, derived leads add up


def test_wfdb_comment_forms() -> None:
    assert parse_comments(["Age: 65", "Sex: Male"]) == {"age": 65, "sex": "M"}
    assert parse_comments(["<age>: 51", "<sex>: F", "<diagnoses>:"]) == {"age": 51, "sex": "F"}
    assert parse_comments(["Age: NaN", "Sex: Unknown"]) == {}


def test_wfdb_signal_file_without_header(tmp_path: Path) -> None:
    (tmp_path / "lonely.dat").write_bytes(b"\0" * 100)
    with pytest.raises(UnsupportedFormat, match="without its header"):
        read_recording(tmp_path / "lonely.dat")


# --- DICOM ----------------------------------------------------------------------------------


def test_dicom_round_trip_with_demographics(tmp_path: Path) -> None:
    rec = real_or_synthetic()
    rec.patient_ref, rec.device_id, rec.height_cm, rec.weight_kg = "PID-1", "cart-3", 172.0, 70.5
    rec.acquired_at = datetime(2025, 6, 1, 8, 30, tzinfo=UTC)
    path = write_dicom(rec, tmp_path / "ecg.dcm")
    assert detect_format(path) == "dicom"
    back = read_recording(path)
    assert_normalised(back)
    np.testing.assert_allclose(back.signal, rec.signal, atol=0.0006)
    for name in ("age", "sex", "patient_ref", "device_id", "height_cm", "weight_kg", "acquired_at", "fs"):
        assert getattr(back, name) == getattr(rec, name), name


def test_dicom_8_leads_derives_limb_leads(tmp_path: Path) -> None:
    rec = synthetic_recording(seed=11)
    back = read_recording(write_dicom(rec, tmp_path / "ecg8.dcm", leads=EIGHT_LEADS))
    assert_normalised(back)
    np.testing.assert_allclose(back.signal, rec.signal, atol=0.0015)


def test_dicom_without_waveform(tmp_path: Path) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PatientID = "x"
    ds.save_as(tmp_path / "image.dcm", enforce_file_format=True)
    with pytest.raises(UnsupportedFormat, match="WaveformSequence"):
        read_recording(tmp_path / "image.dcm")


# --- HL7 aECG -------------------------------------------------------------------------------


def test_aecg_round_trip(tmp_path: Path) -> None:
    rec = real_or_synthetic()
    rec.patient_ref, rec.device_id = "SUBJ-7", "MAC5500-1"
    rec.acquired_at = datetime(2025, 6, 1, 8, 30, tzinfo=UTC)
    path = write_aecg(rec, tmp_path / "ecg.xml")
    assert detect_format(path) == "aecg"
    back = read_recording(path)
    assert_normalised(back)
    np.testing.assert_allclose(back.signal, rec.signal, atol=0.0006)
    for name in ("age", "sex", "patient_ref", "device_id", "acquired_at", "fs"):
        assert getattr(back, name) == getattr(rec, name), name


def test_aecg_8_leads_in_millivolt_scale(tmp_path: Path) -> None:
    rec = synthetic_recording(seed=12, fs=250)
    back = read_recording(write_aecg(rec, tmp_path / "ecg8.xml", leads=EIGHT_LEADS, scale_uv=5.0))
    assert_normalised(back)
    assert back.fs == pytest.approx(250.0)
    np.testing.assert_allclose(back.signal, rec.signal, atol=0.008)


def test_xml_that_is_not_aecg_or_has_entities(tmp_path: Path) -> None:
    other = tmp_path / "other.xml"
    other.write_text("<?xml version='1.0'?><root><a/></root>")
    with pytest.raises(UnsupportedFormat, match="not HL7 aECG"):
        read_recording(other)
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    with pytest.raises(InvalidRecording, match="DTD"):  # reason forbidden_content (tests/security)
        read_recording(bomb)


# --- leads, detection, bulk -----------------------------------------------------------------


def test_lead_names_normalise() -> None:
    labels = (
        "i",
        "Lead II",
        "MDC_ECG_LEAD_AVR",
        "avl",
        "V6",
        "DIII",
        "x",
        "Lead I (Einthoven)",
        "5.6.3-9-62",
        "2:3",
    )
    assert [normalise_lead_name(n) for n in labels] == [
        "I", "II", "aVR", "aVL", "V6", "III", None, "I", "aVR", "V1",
    ]  # fmt: skip


def test_limb_lead_derivation_formulas() -> None:
    lead_i, lead_ii = np.array([1.0, 0.2]), np.array([0.5, -1.0])
    named = {"I": lead_i, "II": lead_ii} | {f"V{k}": np.zeros(2) for k in range(1, 7)}
    signal = assemble_leads(named)
    np.testing.assert_allclose(signal[2], lead_ii - lead_i)
    np.testing.assert_allclose(signal[3], -(lead_i + lead_ii) / 2)
    np.testing.assert_allclose(signal[4], lead_i - lead_ii / 2)
    np.testing.assert_allclose(signal[5], lead_ii - lead_i / 2)
    with pytest.raises(InvalidRecording, match="V1") as caught:
        assemble_leads({"I": lead_i, "II": lead_ii})
    assert caught.value.reason == "missing_leads"


def test_derivation_matches_a_real_12_lead_record() -> None:
    rec = read_recording(shared_data_dir("cinc2021") / "HR06000.hea")
    named = {name: rec.signal[i] for i, name in enumerate(STANDARD_LEADS) if name in EIGHT_LEADS}
    derived = assemble_leads(named)
    assert np.abs(derived[2:6] - rec.signal[2:6]).max() < 0.02  # stored limb leads obey Einthoven


def test_detection_errors(tmp_path: Path) -> None:
    (tmp_path / "a.ecgx").write_bytes(b"0       ")
    with pytest.raises(UnsupportedFormat, match="unknown ECG file format") as caught:
        read_recording(tmp_path / "a.ecgx")
    assert caught.value.reason == "unsupported_format"
    (tmp_path / "a.edf").write_bytes(b"0       ")  # an EDF version field, no header after it
    with pytest.raises(UnsupportedFormat, match="not a valid EDF/BDF file") as caught:
        read_recording(tmp_path / "a.edf")
    assert caught.value.reason == "unreadable"
    (tmp_path / "fake.h5").write_bytes(b"hello")
    with pytest.raises(UnsupportedFormat, match="not a valid HDF5"):
        read_recording(tmp_path / "fake.h5")
    with pytest.raises(UnsupportedFormat, match="folder"):
        read_recording(tmp_path)
    with pytest.raises(UnsupportedFormat):
        read_recording(tmp_path / "missing.dcm")


def test_iter_recordings_never_stops_on_a_bad_file(tmp_path: Path) -> None:
    write_dicom(synthetic_recording(seed=1), tmp_path / "a.dcm")
    (tmp_path / "b.dcm").write_bytes(b"broken")
    (tmp_path / "sub").mkdir()
    write_aecg(synthetic_recording(seed=2), tmp_path / "sub" / "c.xml")
    (tmp_path / "rec.i").write_text("annotation file, not a recording")
    items = list(iter_recordings([tmp_path, tmp_path / "nothing-here.h5"]))
    by_name = {Path(source).name: item for source, item in items}
    assert set(by_name) == {"a.dcm", "b.dcm", "c.xml", "nothing-here.h5"}
    assert isinstance(by_name["a.dcm"], Recording) and isinstance(by_name["c.xml"], Recording)
    assert isinstance(by_name["b.dcm"], InvalidRecording) and isinstance(
        by_name["nothing-here.h5"], InvalidRecording
    )


def test_real_folders_read_completely() -> None:
    folders = [shared_data_dir("ludb"), shared_data_dir("cinc2021")]
    items = list(iter_recordings(folders))
    headers = sum(len(list(folder.glob("*.hea"))) for folder in folders)
    assert headers >= 30
    assert len(items) == headers  # one recording per header: annotation files, csv and licence are skipped
    for _, item in items:
        assert isinstance(item, Recording)
        validate_recording(item)


def test_ingest_public_api() -> None:
    import ingest

    assert set(ingest.__all__) == {
        "read_recording", "detect_format", "iter_recordings", "IngestItem", "Publisher",
    }  # fmt: skip


def test_dicom_channel_sensitivity_is_applied(tmp_path: Path) -> None:
    rec = synthetic_recording(seed=31)
    back = read_recording(write_dicom(rec, tmp_path / "coarse.dcm", sensitivity_uv=2.5))
    np.testing.assert_allclose(back.signal, rec.signal, atol=0.00126)  # half of 2.5 µV
    assert np.abs(back.signal - rec.signal).max() > 0.0006  # really coarser than 1 µV


def test_aecg_without_namespace(tmp_path: Path) -> None:
    path = write_aecg(synthetic_recording(seed=32), tmp_path / "ns.xml")
    text = path.read_text().replace(' xmlns="urn:hl7-org:v3"', "")
    plain = tmp_path / "plain.xml"
    plain.write_text(text)
    assert_normalised(read_recording(plain))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20020509120000.123-0500", datetime(2002, 5, 9, 17, 0, 0, 123000, tzinfo=UTC)),
        ("200205091200", datetime(2002, 5, 9, 12, 0, tzinfo=UTC)),
        ("20020509", datetime(2002, 5, 9, tzinfo=UTC)),
        ("20021340", None),
        ("soon", None),
    ],
)
def test_hl7_timestamps(text: str, expected: datetime | None) -> None:
    from ingest.readers.aecg import _hl7_time

    assert _hl7_time(text) == expected
