"""Signal quality of a raw 12-lead recording: per-lead problems and one verdict.

``assess_quality(signal, fs)`` reads the raw (12, N) signal in mV at its native rate (leads in
``schemas.STANDARD_LEADS`` order) and returns a ``QualityReport``. Reason codes and what they do to
the verdict (docs/quality.md has the same table with the evidence for each threshold):

=========================  =====  ==========  ==============================================================
code                       level  verdict     criterion
=========================  =====  ==========  ==============================================================
non_finite                 lead   unreadable  NaN or infinite samples
lead_off                   lead   unreadable  flat line: peak-to-peak < 0.05 mV, or one constant run >= 50 %
signal_dropout             lead   acceptable  a run of identical samples >= 0.5 s
clipping                   lead   acceptable  >= 2 runs of >= 8 ms, or one >= 100 ms, exactly at the lead's extreme
baseline_wander            lead   acceptable  1-s baseline medians span >= 1.0 mV (mV input only)
high_frequency_noise       lead   acceptable  > 40 Hz RMS >= 0.05 mV (mV input) or >= 10 % of the QRS amplitude
noise_dominant             lead   unreadable  > 40 Hz RMS >= 30 % of the QRS amplitude
mains_50hz / mains_60hz    lead   acceptable  narrow-band excess >= 0.03 mV and >= 10 x the neighbouring level
too_short                  rec.   unreadable  shorter than 2 s
no_qrs                     rec.   unreadable  < 2 QRS complexes, or beats do not repeat (median r < 0.3)
too_many_bad_leads         rec.   unreadable  7 or more leads unreadable (fewer: the rest are read)
limb_reversal_la_ra        rec.   unreadable  LA/RA swapped: P, QRS (T) negative in I, V6 upright (Batchvarov 2007)
limb_reversal_ra_ll        rec.   unreadable  RA/LL swapped: P, QRS (T) negative in II, P upright in aVR
limb_leads_inconsistent    rec.   acceptable  II != I + III or aVR + aVL + aVF != 0 (Einthoven/Goldberger)
=========================  =====  ==========  ==============================================================

``amplitudes_in_mv=False`` (band-passed, z-scored input such as ptbxl-sph) skips every check that
needs millivolts (lead_off by amplitude, baseline_wander, the absolute noise limit, the mains
amplitude limit, limb_leads_inconsistent) and keeps the dimensionless ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from measurements.quality_beats import BeatTemplate, beat_template
from measurements.quality_features import MAINS_HZ, QualityFeatures, quality_features
from measurements.types import LeadQuality, QualityReport, QualityVerdict

__all__ = ["QUALITY_CODES", "QualityThresholds", "DEFAULT_THRESHOLDS", "assess_quality"]

logger = logging.getLogger(__name__)

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
_I, _II, _III, _AVR, _AVL, _AVF, _V6 = 0, 1, 2, 3, 4, 5, 11

# Reason code -> the verdict it forces (the worst code of a lead or recording wins).
QUALITY_CODES: dict[str, QualityVerdict] = {
    "non_finite": "unreadable",
    "lead_off": "unreadable",
    "signal_dropout": "acceptable",
    "clipping": "acceptable",
    "baseline_wander": "acceptable",
    "high_frequency_noise": "acceptable",
    "noise_dominant": "unreadable",
    "mains_50hz": "acceptable",
    "mains_60hz": "acceptable",
    "too_short": "unreadable",
    "no_qrs": "unreadable",
    "too_many_bad_leads": "unreadable",
    "limb_reversal_la_ra": "unreadable",
    "limb_reversal_ra_ll": "unreadable",
    "limb_leads_inconsistent": "acceptable",
}
_RANK: dict[QualityVerdict, int] = {"good": 0, "acceptable": 1, "unreadable": 2}


@dataclass(frozen=True)
class QualityThresholds:
    """Limits of the quality checks (mV, seconds or ratios; see the module table)."""

    flat_ptp_mv: float = 0.05
    flat_constant_fraction: float = 0.5
    dropout_s: float = 0.5
    clipping_runs: int = 2
    clipping_s: float = 0.1
    wander_mv: float = 1.0
    noise_rms_mv: float = 0.05
    noise_ratio: float = 0.10
    noise_dominant_ratio: float = 0.30
    mains_amplitude_mv: float = 0.03
    mains_ratio: float = 10.0
    min_duration_s: float = 2.0
    min_beat_correlation: float = 0.3
    max_unreadable_leads: int = 6
    reversal_p_fraction: float = 0.25
    reversal_p_strong_fraction: float = 0.5
    reversal_p_consistency: float = 0.4
    reversal_p_min_mv: float = 0.03
    reversal_p_visible_fraction: float = 0.10
    reversal_p_max_fraction: float = 0.5
    einthoven_rel_error: float = 0.2
    einthoven_min_mv: float = 0.05


DEFAULT_THRESHOLDS = QualityThresholds()


def _lead_problems(
    f: QualityFeatures, t: QualityThresholds, duration_s: float, in_mv: bool
) -> list[list[str]]:
    leads = len(f.ptp)
    problems: list[list[str]] = [[] for _ in range(leads)]
    flat = f.longest_constant_s >= t.flat_constant_fraction * duration_s
    if in_mv:
        flat |= f.ptp < t.flat_ptp_mv
    else:
        flat |= f.ptp <= 1e-6 * np.maximum(1.0, np.abs(f.ptp).max())
    noise_ratio = f.noise_rms / np.maximum(f.qrs_amplitude, 1e-12)
    noisy = noise_ratio >= t.noise_ratio
    if in_mv:
        noisy |= f.noise_rms >= t.noise_rms_mv
    for k in range(leads):
        codes = problems[k]
        if not f.finite[k]:
            codes.append("non_finite")
        if flat[k]:
            codes.append("lead_off")
            continue  # a flat line has no other property worth reporting
        if f.longest_constant_s[k] >= t.dropout_s:
            codes.append("signal_dropout")
        if f.rail_runs[k] >= t.clipping_runs or f.rail_longest_s[k] >= t.clipping_s:
            codes.append("clipping")
        if in_mv and f.wander[k] >= t.wander_mv:
            codes.append("baseline_wander")
        if noise_ratio[k] >= t.noise_dominant_ratio:
            codes.append("noise_dominant")
        elif noisy[k]:
            codes.append("high_frequency_noise")
        for hz in MAINS_HZ:
            amp, ratio = f.mains_amplitude[hz][k], f.mains_ratio[hz][k]
            limit = t.mains_amplitude_mv if in_mv else 0.03 * f.qrs_amplitude[k]
            if np.isfinite(amp) and amp >= limit and ratio >= t.mains_ratio:
                codes.append(f"mains_{int(hz)}hz")
    return problems


def _reversal(b: BeatTemplate, in_mv: bool, t: QualityThresholds) -> list[str]:
    """Limb-electrode reversal from the median beat's polarities (Batchvarov, Malik & Camm 2007,
    Europace 9:1081): LA/RA swapped inverts P and QRS (and usually T) in lead I while V6 stays
    upright (which separates it from dextrocardia, where V6 is small or negative, and from
    right-axis deviation, where P and T in lead I stay upright).
    RA/LL swapped inverts P and QRS (and usually T) in lead II, and aVR (showing the original aVF)
    gets an upright P. The P must repeat beat after beat (median correlation of the beats' P windows
    with the median beat's >= 0.4) and be negative (>= 25 % of the largest limb-lead P) with a
    negative T (paced or ectopic rhythms with a negative QRS keep a discordant, upright T); for
    LA/RA a clearly negative P (>= 50 %) suffices on its own (lead I's T is often flat or inverted
    already, and a negative P in lead I has few other causes).
    P waves must be visible (the largest limb-lead P between 10 % and 50 % of the largest limb-lead
    QRS); a lead's P counts only when it is at least 25 % of that largest P (and 0.03 mV)."""
    if b.n_beats < 2 or not np.isfinite(b.qrs_net).all():
        return []
    q, p = b.qrs_net, b.p_amplitude
    largest_qrs = float(np.abs(q[_I : _AVF + 1]).max())
    largest_p = float(np.abs(p[_I : _AVF + 1]).max())
    if not (
        t.reversal_p_visible_fraction * largest_qrs <= largest_p <= t.reversal_p_max_fraction * largest_qrs
    ):
        return []  # no clear P waves (fibrillation, noise), or "P waves" as large as the QRS (pacing)
    p_min = t.reversal_p_fraction * largest_p
    if in_mv:
        p_min = max(p_min, t.reversal_p_min_mv)
    out = []
    t_wave = b.t_amplitude

    def inverted(lead: int, strong_p_suffices: bool) -> bool:
        """P negative and T negative, or (where allowed) P clearly negative on its own."""
        if not b.p_consistency[lead] >= t.reversal_p_consistency:
            return False  # no P wave that repeats beat after beat (fibrillation, noise)
        strong = p[lead] <= -max(p_min, t.reversal_p_strong_fraction * largest_p)
        return bool((strong and strong_p_suffices) or (p[lead] <= -p_min and t_wave[lead] < 0))

    if q[_I] < 0 and q[_V6] > 0 and inverted(_I, strong_p_suffices=True):
        out.append("limb_reversal_la_ra")
    if q[_II] < 0 and p[_AVR] >= p_min and inverted(_II, strong_p_suffices=False):
        out.append("limb_reversal_ra_ll")
    return out


def _einthoven_inconsistent(x: np.ndarray, t: QualityThresholds) -> bool:
    """Derived limb leads obey II = I + III and aVR + aVL + aVF = 0 whatever the electrode order."""
    scale = np.sqrt((x[_I : _AVF + 1] ** 2).mean(axis=1)).max()
    errors = (x[_II] - x[_I] - x[_III], x[_AVR] + x[_AVL] + x[_AVF])
    worst = max(float(np.sqrt((e**2).mean())) for e in errors)
    return worst >= t.einthoven_min_mv and worst >= t.einthoven_rel_error * scale


def _worst(codes: list[str] | tuple[str, ...]) -> QualityVerdict:
    verdict: QualityVerdict = "good"
    for code in codes:
        if _RANK[QUALITY_CODES[code]] > _RANK[verdict]:
            verdict = QUALITY_CODES[code]
    return verdict


def assess_quality(
    signal: np.ndarray,
    fs: float,
    *,
    amplitudes_in_mv: bool = True,
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
) -> QualityReport:
    """Quality of a raw (12, N) recording at ``fs`` Hz (mV unless ``amplitudes_in_mv`` is False)."""
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != len(LEADS):
        raise ValueError(f"expected a (12, N) signal, got shape {x.shape}")
    if not fs > 0:
        raise ValueError(f"sampling rate must be positive, got {fs}")
    duration_s = x.shape[1] / fs
    if duration_s < thresholds.min_duration_s:
        leads = tuple(LeadQuality(name, "unreadable", ("too_short",)) for name in LEADS)
        return QualityReport("unreadable", leads, ("too_short",))

    features = quality_features(x, fs)
    per_lead = _lead_problems(features, thresholds, duration_s, amplitudes_in_mv)
    lead_reports = tuple(
        LeadQuality(name, _worst(codes), tuple(codes)) for name, codes in zip(LEADS, per_lead, strict=True)
    )
    unreadable_leads = sum(1 for lead in lead_reports if lead.verdict == "unreadable")

    record: list[str] = []
    finite = x if features.finite.all() else np.where(np.isfinite(x), x, 0.0)
    template = beat_template(finite, features.qrs_band, fs)
    consistent = np.nanmedian(template.correlation) if template.n_beats >= 2 else np.nan
    if template.n_beats < 2 or not consistent >= thresholds.min_beat_correlation:
        record.append("no_qrs")
    if unreadable_leads > thresholds.max_unreadable_leads:
        record.append("too_many_bad_leads")
    record.extend(_reversal(template, amplitudes_in_mv, thresholds))
    if amplitudes_in_mv and _einthoven_inconsistent(finite, thresholds):
        record.append("limb_leads_inconsistent")

    verdict = _worst(record)
    if verdict == "good" and any(lead.verdict != "good" for lead in lead_reports):
        verdict = "acceptable"
    if verdict == "unreadable":
        logger.debug("recording unreadable", extra={"reasons": record})
    return QualityReport(verdict, lead_reports, tuple(record))
