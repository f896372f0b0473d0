"""Property tests: random, truncated or corrupted files give a clean EcgstreamError, never a crash."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import wfdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import EcgstreamError
from ingest import read_recording
from ingest.writers import write_aecg, write_dicom
from schemas import Recording
from tests.ingest.helpers import synthetic_recording
from tests.ingest.vendor_files import MUSE_FILE, SIERRA_FILE, write_edf, write_scp

FUZZ_EXAMPLES = int(os.environ.get("ECGSTREAM_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _reads_cleanly(path: Path) -> None:
    try:
        result = read_recording(path)
    except EcgstreamError:
        return
    assert isinstance(result, Recording)  # a damaged file may still parse; then it is a Recording


@pytest.fixture(scope="module")
def valid_files() -> dict[str, dict[str, bytes]]:
    """name -> {file name: bytes} of one valid file (set) per format."""
    rec = synthetic_recording(seconds=5, fs=100, seed=21, age=60, sex="F")
    folder = Path(tempfile.mkdtemp())
    try:
        with h5py.File(folder / "r.h5", "w") as handle:
            handle.create_dataset("ecg", data=rec.signal.astype(np.float16))
        write_dicom(rec, folder / "r.dcm")
        write_aecg(rec, folder / "r.xml")
        wfdb.wrsamp(
            "r", fs=100, units=["mV"] * 12, sig_name=list(rec.leads), p_signal=rec.signal.T.astype(float),
            fmt=["16"] * 12, comments=["Age: 60", "Sex: F"], write_dir=str(folder),
        )  # fmt: skip
        write_scp(rec, folder / "r.scp", huffman=True, differences=2)
        write_edf(rec, folder / "r.edf")
        names = ("r.h5", "r.dcm", "r.xml", "r.hea", "r.dat", "r.scp", "r.edf")
        files = {name: (folder / name).read_bytes() for name in names}
    finally:
        shutil.rmtree(folder)
    return {
        "h5": {"r.h5": files["r.h5"]},
        "dcm": {"r.dcm": files["r.dcm"]},
        "xml": {"r.xml": files["r.xml"]},
        "wfdb": {"r.hea": files["r.hea"], "r.dat": files["r.dat"]},
        "muse": {"muse.xml": MUSE_FILE.read_bytes()},  # real vendor files (tests/ingest/data/vendor)
        "sierra": {"sierra.xml": SIERRA_FILE.read_bytes()},
        "scp": {"r.scp": files["r.scp"]},
        "edf": {"r.edf": files["r.edf"]},
    }


SAMPLES = {"muse": 5000, "sierra": 5264}  # the real files; every written one holds 5 s at 100 Hz
KINDS = ["h5", "dcm", "xml", "wfdb", "muse", "sierra", "scp", "edf"]


def _write(files: dict[str, bytes]) -> tuple[Path, Path]:
    folder = Path(tempfile.mkdtemp())
    for name, data in files.items():
        (folder / name).write_bytes(data)
    main = next(folder / name for name in files if not name.endswith(".dat"))
    return folder, main


def test_valid_files_read(valid_files) -> None:
    for kind, files in valid_files.items():
        folder, main = _write(files)
        try:
            assert read_recording(main).n_samples == SAMPLES.get(kind, 500)
        finally:
            shutil.rmtree(folder)


@FUZZ
@given(
    data=st.binary(max_size=2048), suffix=st.sampled_from([".h5", ".dcm", ".xml", ".hea", ".dat", ".mat", ""])
)
def test_random_bytes(data: bytes, suffix: str) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / f"x{suffix}"
        path.write_bytes(data)
        _reads_cleanly(path)
    finally:
        shutil.rmtree(folder)


@FUZZ
@given(
    data=st.binary(max_size=512),
    prefix=st.sampled_from([
        b"\x89HDF\r\n\x1a\n", b"\0" * 128 + b"DICM", b"<?xml", b"<RestingECG>", b"<restingecgdata>",
        b"0       " + b" " * 176 + b"768     " + b" " * 60 + b"1   ",
    ]),
)
def test_random_bytes_behind_a_valid_signature(data: bytes, prefix: bytes) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / "x.bin"
        path.write_bytes(prefix + data)
        _reads_cleanly(path)
    finally:
        shutil.rmtree(folder)


@FUZZ
@given(kind=st.sampled_from(KINDS), cut=st.floats(0.0, 0.999))
def test_truncated_files(valid_files, kind: str, cut: float) -> None:
    files = dict(valid_files[kind])
    name = "r.dat" if kind == "wfdb" and cut > 0.5 else next(iter(files))
    files[name] = files[name][: int(len(files[name]) * cut)]
    folder, main = _write(files)
    try:
        _reads_cleanly(main)
    finally:
        shutil.rmtree(folder)


@FUZZ
@given(
    kind=st.sampled_from(KINDS),
    position=st.floats(0.0, 0.999),
    byte=st.integers(0, 255),
)
def test_corrupted_byte(valid_files, kind: str, position: float, byte: int) -> None:
    files = dict(valid_files[kind])
    name = next(iter(files))
    data = bytearray(files[name])
    data[int(len(data) * position)] = byte
    files[name] = bytes(data)
    folder, main = _write(files)
    try:
        _reads_cleanly(main)
    finally:
        shutil.rmtree(folder)
