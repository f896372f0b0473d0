"""Real recordings for the analysis tests: the CinC 2021 records (mV) and corrupted copies of one."""

from __future__ import annotations

import dataclasses

import numpy as np

from ingest import read_recording
from schemas import Recording, new_recording_id, validate_recording
from tests.conftest import shared_data_dir

FLAT_LEADS = (6, 7, 8, 9)  # V1-V4


def cinc_recordings() -> list[Recording]:
    """The 10 real CinC 2021 records, read from their WFDB files (skips where ../shared is absent)."""
    return [read_recording(header) for header in sorted(shared_data_dir("cinc2021").glob("*.hea"))]


def leads_off_recording(base: Recording, seed: int = 3) -> Recording:
    """``base`` with V1-V4 replaced by 4 µV (SD) amplifier noise: electrodes off.

    Still a valid recording (every lead varies more than the 5 µV flat-signal limit of
    ``validate_recording``, nothing clipped), so it reaches the worker's quality stage, where
    four leads off make it unreadable.
    """
    signal = base.signal.copy()
    rng = np.random.default_rng(seed)
    signal[list(FLAT_LEADS)] = rng.normal(0.0, 0.004, (len(FLAT_LEADS), signal.shape[1])).astype(np.float32)
    corrupted = dataclasses.replace(base, signal=signal, recording_id=new_recording_id())
    validate_recording(corrupted)  # the premise of the tests: it passes edge validation
    return corrupted
