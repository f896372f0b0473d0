"""Builders of hostile ECG files: small on disk, huge (or reaching other files) once decoded.

Each builder writes with the real library (h5py, soundfile, pydicom) or, where no library writes the
hostile form, by hand following the format (the DICOM deflate stream is produced streaming, so the
1.5 GB payload never exists in memory).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from ingest.writers import write_dicom
from tests.faults.messages import synthetic_recording

GiB = 1024**3


def h5_array_dtype_bomb(path: Path, per_element: int = 40_000) -> Path:
    """``ecg`` of shape (12, 1000) whose elements are arrays of ``per_element`` float64 (3.8 GB decoded)."""
    import h5py

    with h5py.File(path, "w") as handle:
        handle.create_dataset("ecg", shape=(12, 1000), dtype=np.dtype((np.float64, (per_element,))))
    return path


def h5_gzip_bomb(path: Path, n_samples: int = 2_000_000) -> Path:
    """A chunked, gzip-compressed (12, n) float64 ``ecg`` of zeros: 13 KB on disk, 192 MB decoded."""
    import h5py

    with h5py.File(path, "w") as handle:
        dataset = handle.create_dataset(
            "ecg", shape=(12, n_samples), dtype="<f8", chunks=(12, 100_000), compression="gzip", fillvalue=0.0
        )
        dataset[:, :100_000] = 0.0  # at least one chunk really stored, compressed
    return path


def h5_chunk_bomb(path: Path, chunk_samples: int = 4_000_000) -> Path:
    """A valid (12, 5000) float32 ``ecg`` (a 1 mV, 1 Hz sine) stored in ONE deflated chunk declared
    (12, ``chunk_samples``): HDF5 allows chunks larger than the dataset when it may grow (maxshape
    None), and inflates the whole chunk (183 MiB by default) to read the 240 KB of samples. The
    chunk is deflated streaming (zlib, as HDF5's filter 1 stores it) and written with
    ``write_direct_chunk``, so the inflated chunk never exists here."""
    import zlib

    import h5py

    n = 5000
    row = (np.sin(2 * np.pi * np.arange(n) / 500.0)).astype("<f4").tobytes()
    zeros = bytes(4 * 1024 * 1024)
    compressor = zlib.compressobj(6)
    parts = []
    for _ in range(12):
        parts.append(compressor.compress(row))
        remaining = 4 * (chunk_samples - n)
        while remaining:
            step = min(remaining, len(zeros))
            parts.append(compressor.compress(zeros[:step]))
            remaining -= step
    parts.append(compressor.flush())
    with h5py.File(path, "w") as handle:
        dataset = handle.create_dataset("ecg", shape=(12, n), maxshape=(12, None), chunks=(12, chunk_samples),
                                        dtype="<f4", compression="gzip")  # fmt: skip
        dataset.id.write_direct_chunk((0, 0), b"".join(parts))
    return path


def h5_unlisted_filter(path: Path) -> Path:
    """``ecg`` stored with the scale-offset filter (HDF5 filter 6), which the reader does not allow."""
    import h5py

    with h5py.File(path, "w") as handle:
        handle.create_dataset("ecg", data=np.zeros((12, 5000), dtype="<i2"), scaleoffset=0)
    return path


def h5_external_link(path: Path, target: Path) -> Path:
    """``ecg`` as an external link to ``target``'s ``/ecg`` (a server-side HDF5 file, written here)."""
    import h5py

    with h5py.File(target, "w") as handle:
        handle.create_dataset("ecg", data=np.ones((12, 5000), dtype="<f4"))
    with h5py.File(path, "w") as handle:
        handle["ecg"] = h5py.ExternalLink(str(target), "/ecg")
    return path


def h5_soft_link(path: Path) -> Path:
    import h5py

    with h5py.File(path, "w") as handle:
        handle.create_dataset("hidden", data=np.zeros((12, 5000), dtype="<f4"))
        handle["ecg"] = h5py.SoftLink("/hidden")
    return path


def h5_external_storage(path: Path, target: str = "/etc/passwd") -> Path:
    """``ecg`` whose raw data lives in ``target`` (HDF5 external storage): h5py reads that file's bytes."""
    import h5py

    size = Path(target).stat().st_size
    n = max(1, size // 12)
    with h5py.File(path, "w") as handle:
        handle.create_dataset("ecg", shape=(12, n), dtype="u1", external=[(target, 0, 12 * n)])
    return path


def h5_virtual_dataset(path: Path, source: Path) -> Path:
    """``ecg`` as a virtual dataset mapping another HDF5 file (``source``, written here)."""
    import h5py

    with h5py.File(source, "w") as handle:
        handle.create_dataset("secret", data=np.ones((12, 5000), dtype="<f4"))
    layout = h5py.VirtualLayout(shape=(12, 5000), dtype="<f4")
    layout[:] = h5py.VirtualSource(str(source), "secret", shape=(12, 5000))
    with h5py.File(path, "w") as handle:
        handle.create_virtual_dataset("ecg", layout, fillvalue=0)
    return path


def wfdb_flac_bomb(folder: Path, sig_len: int = 200_000, samples_per_frame: int = 100) -> Path:
    """A WFDB record (8 leads, format 516 FLAC, ``samples_per_frame`` per frame) of zeros.

    The FLAC stream holds all ``sig_len`` x ``samples_per_frame`` frames (constant subframes compress
    them to a few hundred KB); decoded, wfdb needs 8 x 2e7 int16 samples and their float64 copies.
    Returns the ``.hea``.
    """
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    leads = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]
    frames = sig_len * samples_per_frame
    chunk = np.zeros((1_000_000, len(leads)), dtype=np.int16)
    with soundfile.SoundFile(folder / "bomb.dat", "w", samplerate=96000, channels=len(leads),
                             subtype="PCM_16", format="FLAC") as out:  # fmt: skip
        for start in range(0, frames, len(chunk)):
            out.write(chunk[: min(len(chunk), frames - start)])
    lines = [f"bomb {len(leads)} 500 {sig_len}"]
    lines += [f"bomb.dat 516x{samples_per_frame} 200/mV 16 0 0 0 0 {lead}" for lead in leads]
    header = folder / "bomb.hea"
    header.write_text("\n".join(lines) + "\n")
    return header


def _explicit_le(dataset: object) -> bytes:
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset

    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    write_dataset(buffer, dataset)  # type: ignore[arg-type]
    return buffer.getvalue()


def dicom_deflate_bomb(path: Path, private_bytes: int = 1_500_000_000) -> Path:
    """A valid 12-lead ECG DICOM in the Deflated transfer syntax with ``private_bytes`` zeros in a
    private element (0009,1010) OB: about 7 MB on disk (deflate level 1, fast), inflated streaming."""
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.filewriter import write_file_meta_info
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    plain = write_dicom(synthetic_recording(7), path.with_suffix(".plain.dcm"))
    ds = pydicom.dcmread(plain)
    before, after = Dataset(), Dataset()
    for element in ds:
        (before if element.tag.group < 0x0009 else after).add(element)
    creator = struct.pack("<HH2sH", 0x0009, 0x0010, b"LO", 10) + b"ECGSTREAM "
    private = struct.pack("<HH2sHI", 0x0009, 0x1010, b"OB", 0, private_bytes)
    deflate = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    meta = ds.file_meta
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    zeros = bytes(1024 * 1024)
    with path.open("wb") as out:
        out.write(b"\0" * 128 + b"DICM")
        write_file_meta_info(out, meta, enforce_standard=True)  # type: ignore[arg-type]
        out.write(deflate.compress(_explicit_le(before) + creator + private))
        remaining = private_bytes
        while remaining:
            step = min(remaining, len(zeros))
            out.write(deflate.compress(zeros[:step]))
            remaining -= step
        out.write(deflate.compress(_explicit_le(after)))
        out.write(deflate.flush())
    plain.unlink()
    return path
