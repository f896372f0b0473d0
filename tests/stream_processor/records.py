"""Real recordings for the analysis tests: the CinC 2021 records (mV) and corrupted copies of one."""

from __future__ import annotations

import dataclasses

import numpy as np

from ingest import read_recording
from schemas import Recording, new_recording_id, validate_recording
from tests.conftest import shared_data_dir

FLAT_LEADS = (0, 1, 2, 6, 7, 8, 9, 10)  # I, II, III, V1-V5: more than half the leads


def cinc_recordings() -> list[Recording]:
    """The 10 real CinC 2021 records, read from their WFDB files (skips where ../shared is absent)."""
    return [read_recording(header) for header in sorted(shared_data_dir("cinc2021").glob("*.hea"))]


def leads_off_recording(base: Recording, seed: int = 3) -> Recording:
    """``base`` with 8 leads (I, II, III, V1-V5) replaced by 4 µV (SD) amplifier noise: electrodes off.

    Still a valid recording (every lead varies more than the 5 µV flat-signal limit of
    ``validate_recording``, nothing clipped), so it reaches the worker's quality stage, where more
    than 6 leads off make it unreadable (fewer are left out and the rest is read).
    """
    signal = base.signal.copy()
    rng = np.random.default_rng(seed)
    signal[list(FLAT_LEADS)] = rng.normal(0.0, 0.004, (len(FLAT_LEADS), signal.shape[1])).astype(np.float32)
    corrupted = dataclasses.replace(base, signal=signal, recording_id=new_recording_id())
    validate_recording(corrupted)  # the premise of the tests: it passes edge validation
    return corrupted
