"""Small synthetic data sets in the exact SPH layout, with labels that really shape the signals.

``write_sph_dataset(folder, n)`` writes ``metadata.csv`` (ECG_ID, AHA_Code, Patient_ID, Age, Sex, N,
Date), ``code.csv`` (SPH's 44 statements + 15 modifiers, ``schemas.aha_codes.SPH_CODES``) and
``records/<ECG_ID>.h5`` (dataset ``ecg``, (12, N) float16, mV, 500 Hz). Each beat is a sum of Gaussian P, Q, R, S, T waves with typical
lead-specific amplitudes. Planted labels determine the signal:

| code | planted as |
|---|---|
| 1 | sinus rhythm 60-95 bpm, no other finding |
| 21 | sinus tachycardia: 105-150 bpm |
| 22 | sinus bradycardia: 38-55 bpm |
| 106 | right bundle-branch block: QRS 2.5x wider, terminal R' in V1-V2, wide S in I, V5, V6 |
| 147+367 | T-wave inversion in I, II, aVF, V2-V6 |
| 30+310 | frequent atrial premature complexes: ~20 % of beats early (0.65 RR) |

Statements are joined with ``;`` (e.g. ``21;147+367``) as in SPH.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import h5py
import numpy as np

from schemas.aha_codes import SPH_CODES

__all__ = ["write_sph_dataset", "simulate_ecg", "PLANTED_CODES"]

PLANTED_CODES = (1, 21, 22, 30, 106, 147, 310, 367)

# Typical amplitudes (mV) per lead: I II III aVR aVL aVF V1 V2 V3 V4 V5 V6
_P = np.array([0.08, 0.15, 0.07, -0.1, 0.03, 0.1, 0.05, 0.08, 0.08, 0.08, 0.08, 0.07])
_Q = np.array([-0.05, -0.08, -0.05, 0.0, -0.05, -0.05, 0.0, 0.0, 0.0, -0.05, -0.08, -0.08])
_R = np.array([0.6, 1.0, 0.5, -0.7, 0.3, 0.7, 0.2, 0.4, 0.7, 1.1, 1.3, 1.1])
_S = np.array([-0.1, -0.2, -0.2, 0.0, -0.1, -0.2, -0.9, -1.2, -0.8, -0.4, -0.2, -0.1])
_T = np.array([0.2, 0.3, 0.1, -0.25, 0.1, 0.2, 0.05, 0.3, 0.4, 0.4, 0.3, 0.25])
_T_INVERTED_LEADS = np.array([0, 1, 5, 7, 8, 9, 10, 11])


def _beat_times(rng: np.random.Generator, hr: float, duration: float, pac: bool) -> np.ndarray:
    rr = 60.0 / hr
    times, t = [], rng.uniform(0.05, rr)
    while t < duration + 0.5:
        times.append(t)
        early = pac and rng.random() < 0.2
        t += rr * (0.65 if early else 1.0) * (1 + 0.02 * rng.standard_normal())
    return np.asarray(times)


def simulate_ecg(
    rng: np.random.Generator,
    hr: float,
    rbbb: bool = False,
    t_inversion: bool = False,
    pac: bool = False,
    fs: float = 500.0,
    duration: float = 10.0,
) -> np.ndarray:
    """(12, N) float32 mV: Gaussian-wave beats at ``hr`` bpm with the planted findings, plus noise."""
    n = int(round(duration * fs))
    t = np.arange(n) / fs
    beats = _beat_times(rng, hr, duration, pac)
    rr = 60.0 / hr
    qrs_w = 2.5 if rbbb else 1.0
    t_amp = _T.copy()
    if t_inversion:
        t_amp[_T_INVERTED_LEADS] = -np.abs(t_amp[_T_INVERTED_LEADS]) * 1.2
    s_amp = _S.copy()
    r2_amp = np.zeros(12)
    if rbbb:
        r2_amp[[6, 7]] = [0.7, 0.5]
        s_amp[[0, 10, 11]] = [-0.35, -0.4, -0.4]
    waves = [  # (offset from R in s, width in s, amplitudes (12,))
        (-0.16, 0.022, _P), (-0.03, 0.010, _Q), (0.0, 0.011 * qrs_w, _R), (0.03 * qrs_w, 0.012 * qrs_w, s_amp),
        (0.07 * qrs_w, 0.014 * qrs_w, r2_amp), (0.26 * np.sqrt(rr) + 0.04 * (qrs_w - 1), 0.05, t_amp),
    ]  # fmt: skip
    scale = rng.uniform(0.8, 1.2) * (1 + 0.1 * rng.standard_normal(12))
    x = np.zeros((12, n))
    for offset, width, amp in waves:
        if not np.any(amp):
            continue
        d = t[None, :] - (beats[:, None] + offset)  # (beats, N)
        x += (amp * scale)[:, None] * np.exp(-0.5 * (d / width) ** 2).sum(axis=0)[None, :]
    wander = 0.1 * np.sin(2 * np.pi * rng.uniform(0.15, 0.4) * t + rng.uniform(0, 2 * np.pi))
    x += wander[None, :] + 0.02 * rng.standard_normal(x.shape)
    return x.astype(np.float32)


def _draw_record(rng: np.random.Generator) -> tuple[str, dict]:
    rhythm = rng.choice(["normal", "tachy", "brady"], p=[0.4, 0.3, 0.3])
    hr = {"normal": rng.uniform(60, 95), "tachy": rng.uniform(105, 150), "brady": rng.uniform(38, 55)}[rhythm]
    rbbb, t_inv, pac = rng.random() < 0.25, rng.random() < 0.25, rng.random() < 0.15
    statements = {"normal": [], "tachy": ["21"], "brady": ["22"]}[rhythm]
    if pac:
        statements.append("30+310")
    if rbbb:
        statements.append("106")
    if t_inv:
        statements.append("147+367")
    code = ";".join(statements) if statements else "1"
    return code, {"hr": hr, "rbbb": rbbb, "t_inversion": t_inv, "pac": pac}


def write_sph_dataset(
    folder: Path | str, n_records: int, seed: int = 0, fs: float = 500.0, duration: float = 10.0
) -> Path:
    """Write ``n_records`` synthetic recordings in the SPH layout under ``folder``; returns ``folder``."""
    folder = Path(folder)
    (folder / "records").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    with open(folder / "code.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Category", "Code", "Description"])
        writer.writerows(SPH_CODES)
    rows = []
    patient = 0
    for i in range(n_records):
        if i == 0 or rng.random() > 0.2:  # ~20 % of records are a patient's second recording
            patient += 1
            age, sex = int(rng.integers(18, 90)), str(rng.choice(["M", "F"]))
        code, params = _draw_record(rng)
        signal = simulate_ecg(rng, fs=fs, duration=duration, **params)
        ecg_id = f"A{i + 1:05d}"
        with h5py.File(folder / "records" / f"{ecg_id}.h5", "w") as h5:
            h5.create_dataset("ecg", data=signal.astype(np.float16))
        when = date(2019, 1, 1) + timedelta(days=int(rng.integers(0, 1000)))
        rows.append([ecg_id, code, f"{100000 + patient}", age, sex, signal.shape[1], when.isoformat()])
    with open(folder / "metadata.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ECG_ID", "AHA_Code", "Patient_ID", "Age", "Sex", "N", "Date"])
        writer.writerows(rows)
    return folder
