"""Third-party delineators run the way `validate_ludb.py` compares them (benchmark-only; GPL code).

Each method maps a (12, N) mV recording to a record's PR, QRS and QT (ms): per beat a global
boundary, then the median over beats, as the LUDB reference does.

- ``ecgdeli`` 1.0.0 (KIT-IBT ECGdeli, Python port; GPL-3.0-or-later): ``filter_ecg`` (1-40 Hz,
  50 Hz notch, isoline) then ``annotate`` on all 12 leads. ``consensus`` is its own cross-lead
  table (median over the leads per beat); ``rank`` combines its per-lead tables like the
  reference (second-earliest onset, second-latest offset over the leads).
- ``wavedet`` 0.1.0 (ecg-kit wavedet, Python port; GPL-2.0-only; declares Python >= 3.12, runs on
  3.11): ``delineate`` on the (N, 12) raw signal: ``slr`` is its own multilead fusion (SLR, k = 2
  nearest leads), ``rank`` its per-lead marks combined like the reference.

``combined`` is the median of ecgstream's, ECGdeli's consensus and wavedet's SLR value per
interval (benchmark only: see docs/measurements.md for why the product cannot ship it).

Both detect their own beats and sometimes take a tall T wave for a QRS. So that the comparison
is about delineation, not beat detection, only their beats whose QRS lies within 80 ms of one of
ecgstream's dominant (N) beats count; a record where none does is not measured (null). Records
where ecgstream detects pacing are left out of every method (``paced``), so that all methods are
compared on the same records.
Neither package is a product dependency: both are GPL, the product is Apache-2.0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from measurements import measure

__all__ = ["METHODS", "combine_rank", "combined_method", "ecgdeli_method", "wavedet_method"]

Result = dict[str, float | None]
MATCH_S = 0.08
MIN_LEADS = 3  # a beat's global boundary needs at least this many leads with the mark
MARKS = ("p_on", "qrs_on", "qrs_off", "t_off")  # wavedet's names, in the order used here


def _our_beats(signal: np.ndarray, fs: float) -> tuple[np.ndarray, bool]:
    """ecgstream's dominant (N) beats, and whether it detected pacing."""
    m = measure(signal, fs)
    beats = [r for r, c in zip(m.beats.r_peaks, m.beats.classes, strict=True) if c == "N"]
    return np.asarray(beats), bool(m.paced)


def _matched(qrs: np.ndarray, ours: np.ndarray, fs: float) -> np.ndarray:
    """Per beat: its QRS fiducial lies within 80 ms of one of our dominant beats."""
    if ours.size == 0:
        return np.zeros(qrs.shape, dtype=bool)
    gap = np.min(np.abs(qrs[:, None] - ours[None, :]), axis=1, initial=np.inf)
    return np.isfinite(qrs) & (gap <= MATCH_S * fs)


def _nth(values: np.ndarray, rank: int, *, latest: bool) -> np.ndarray:
    """Per row: the rank-th earliest (or latest) finite value; NaN with fewer than MIN_LEADS."""
    x = np.where(np.isfinite(values), values, np.inf if not latest else -np.inf)
    x = -np.sort(-x, axis=1) if latest else np.sort(x, axis=1)
    out = x[:, rank].astype(float)
    out[np.isfinite(values).sum(axis=1) < max(MIN_LEADS, rank + 1)] = np.nan
    return out


def combine_rank(marks: Sequence[np.ndarray], rank: int = 1) -> list[np.ndarray]:
    """(beats, leads) P on, QRS on, QRS off, T off -> per beat the global ones (onsets the
    rank-th earliest, offsets the rank-th latest over the leads; the second by default)."""
    return [_nth(m, rank, latest=k in (2, 3)) for k, m in enumerate(marks)]


def _record(marks: Sequence[np.ndarray], fs: float) -> Result:
    """Median over beats of each interval (beats where both ends exist), ms, from per-beat
    P on, QRS on, QRS off, T off."""
    p_on, qrs_on, qrs_off, t_off = marks

    def med(a: np.ndarray, b: np.ndarray) -> float | None:
        d = (b - a)[np.isfinite(b - a)]
        return float(np.median(d)) * 1000.0 / fs if d.size else None

    return {"pr_ms": med(p_on, qrs_on), "qrs_ms": med(qrs_on, qrs_off), "qt_ms": med(qrs_on, t_off)}


NULL: Result = {"pr_ms": None, "qrs_ms": None, "qt_ms": None}
PACED: Result = {**NULL, "paced": 1.0}


def ecgdeli_method(combine: str = "consensus") -> Callable[[np.ndarray, float], Result]:
    """ECGdeli on the 12 leads; ``consensus`` (its own) or ``rank`` (second-earliest / -latest)."""

    def run(signal: np.ndarray, fs: float) -> Result:
        import ecgdeli
        from ecgdeli.fpt import Wave

        columns = (Wave.P_ON, Wave.QRS_ON, Wave.QRS_OFF, Wave.T_OFF)

        try:
            ann = ecgdeli.annotate(ecgdeli.filter_ecg(signal.T, fs=fs), fs=fs)
        except Exception:  # count a failure as not measured, like a null
            return dict(NULL)
        ours, paced = _our_beats(signal, fs)
        if paced:
            return dict(PACED)
        keep = _matched(ann.consensus.samples[:, Wave.R_PEAK], ours, fs)
        if combine == "consensus":
            s = ann.consensus.samples[keep]
            return _record([s[:, w] for w in columns], fs)
        leads = np.stack([lead.samples[keep] for lead in ann.leads], axis=1)  # (beats, leads, 12)
        return _record(combine_rank([leads[:, :, w] for w in columns]), fs)

    return run


def _wavedet_per_lead(per_lead: tuple[object, ...], beats: np.ndarray, fs: float) -> list[np.ndarray]:
    """(beats, leads) P on, QRS on, QRS off, T off: each lead's beat nearest each of ours."""
    out = [np.full((beats.size, len(per_lead)), np.nan) for _ in range(4)]
    for j, lead in enumerate(per_lead):
        qrs = np.asarray(lead.qrs, dtype=np.float64)  # type: ignore[attr-defined]
        if qrs.size == 0:
            continue
        for i, r in enumerate(beats):
            k = int(np.nanargmin(np.abs(qrs - r))) if np.isfinite(qrs).any() else -1
            if k < 0 or abs(qrs[k] - r) > MATCH_S * fs:
                continue
            for m, name in enumerate(MARKS):
                out[m][i, j] = float(np.asarray(getattr(lead, name), dtype=np.float64)[k])
    return out


def wavedet_method(combine: str = "slr") -> Callable[[np.ndarray, float], Result]:
    """wavedet on the 12 raw leads; ``slr`` (its multilead fusion) or ``rank`` over its per-lead marks."""

    def run(signal: np.ndarray, fs: float) -> Result:
        import wavedet

        try:
            d = wavedet.delineate(np.ascontiguousarray(signal.T), int(round(fs)))
        except Exception:
            return dict(NULL)
        ours, paced = _our_beats(signal, fs)
        if paced:
            return dict(PACED)
        if combine == "slr":
            qrs = np.asarray(d.qrs, dtype=float)
            keep = _matched(qrs, ours, fs)
            return _record([np.asarray(getattr(d, n), dtype=np.float64)[keep] for n in MARKS], fs)
        return _record(combine_rank(_wavedet_per_lead(tuple(d.per_lead), ours, fs)), fs)

    return run


def combined_method() -> Callable[[np.ndarray, float], Result]:
    """Per interval the median of ecgstream, ECGdeli's consensus and wavedet's SLR values, where
    ecgstream measured it (its None stays None) and at least one other method did too."""
    others = (ecgdeli_method("consensus"), wavedet_method("slr"))

    def run(signal: np.ndarray, fs: float) -> Result:
        m = measure(signal, fs)
        if m.paced:
            return dict(PACED)
        results = [method(signal, fs) for method in others]
        out: Result = {}
        for name in NULL:
            ours = getattr(m, name)
            values = [v for v in [ours, *(r[name] for r in results)] if v is not None]
            out[name] = float(np.median(values)) if ours is not None and len(values) >= 2 else None
        return out

    return run


METHODS: dict[str, Callable[[], dict[str, Callable[[np.ndarray, float], Result]]]] = {
    "ecgdeli": lambda: {"ecgdeli consensus": ecgdeli_method("consensus"), "ecgdeli rank": ecgdeli_method("rank")},
    "wavedet": lambda: {"wavedet SLR": wavedet_method("slr"), "wavedet rank": wavedet_method("rank")},
    "combined": lambda: {"combined (median of 3)": combined_method()},
}  # fmt: skip
