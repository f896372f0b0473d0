"""Global intervals from the median beat's fiducials: PR, QRS, QT and QTc (Bazett, Fridericia).

Plausibility limits reject boundaries the delineation got wrong rather than reporting them:
PR 60-400 ms, QRS 40-220 ms, QT 200-700 ms (outside -> None with ``implausible``).
"""

from __future__ import annotations

import math

from measurements.delineation import Fiducials

__all__ = ["Intervals", "intervals"]

PR_RANGE_MS = (60.0, 400.0)
QRS_RANGE_MS = (40.0, 220.0)
QT_RANGE_MS = (200.0, 700.0)


class Intervals:
    def __init__(self) -> None:
        self.pr_ms: float | None = None
        self.qrs_ms: float | None = None
        self.qt_ms: float | None = None
        self.qtc_bazett_ms: float | None = None
        self.qtc_fridericia_ms: float | None = None
        self.missing: dict[str, str] = {}


def _checked(value_ms: float, limits: tuple[float, float], name: str, out: Intervals) -> float | None:
    if limits[0] <= value_ms <= limits[1]:
        return value_ms
    out.missing[name] = "implausible"
    return None


def intervals(fid: Fiducials, fs: float, rr_s: float | None) -> Intervals:
    """PR, QRS, QT (ms) from the fiducials; QTc from the dominant RR (seconds)."""
    out = Intervals()
    ms = 1000.0 / fs
    if fid.qrs_on is None or fid.qrs_off is None:
        reason = fid.missing.get("qrs", "qrs_boundaries_unclear")
        for name in ("pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms"):
            out.missing[name] = reason
        return out
    out.qrs_ms = _checked((fid.qrs_off - fid.qrs_on) * ms, QRS_RANGE_MS, "qrs_ms", out)
    if fid.p_on is not None:
        out.pr_ms = _checked((fid.qrs_on - fid.p_on) * ms, PR_RANGE_MS, "pr_ms", out)
    else:
        out.missing["pr_ms"] = fid.missing.get("p", "no_p_waves")
    if fid.t_end is not None:
        out.qt_ms = _checked((fid.t_end - fid.qrs_on) * ms, QT_RANGE_MS, "qt_ms", out)
    else:
        out.missing["qt_ms"] = fid.missing.get("t", "t_end_unclear")
    if out.qt_ms is None:
        out.missing["qtc_bazett_ms"] = out.missing["qtc_fridericia_ms"] = out.missing["qt_ms"]
    elif rr_s is None:
        out.missing["qtc_bazett_ms"] = out.missing["qtc_fridericia_ms"] = "no_heart_rate"
    else:
        out.qtc_bazett_ms = out.qt_ms / math.sqrt(rr_s)
        out.qtc_fridericia_ms = out.qt_ms / rr_s ** (1.0 / 3.0)
    return out
