"""Rhythm rules from the beat sequence: sinus rhythm and its rate, sinus arrhythmia, premature
complexes with their frequency and pattern modifiers, and atrial fibrillation support.

Statement numbers are the SPH ``code.csv`` codes (AHA statement list, Mason et al. 2007,
"Recommendations for the standardization and interpretation of the electrocardiogram, part II:
electrocardiography diagnostic statement list", Circulation 115:1325, JACC 49:1128).
"""

from __future__ import annotations

import numpy as np

from measurements.types import Beats, Measurements, RuleStatement

__all__ = [
    "SINUS_P_FRACTION",
    "TACHYCARDIA_BPM",
    "BRADYCARDIA_BPM",
    "SINUS_ARRHYTHMIA_RANGE_MS",
    "AF_NRMSSD",
    "AF_MAX_P_FRACTION",
    "FREQUENT_PER_MINUTE",
    "PATTERN_CYCLES",
    "is_sinus",
    "is_af_like",
    "sinus_statements",
    "premature_statements",
    "af_statements",
    "flutter_statements",
    "is_atrial_tachyarrhythmia",
    "AF_MAX_COHERENCE",
    "RHYTHMS",
    "rhythm_call",
    "sinus_rate_bpm",
]

# Sinus rhythm: a P wave before (nearly) every dominant beat, at least 3 dominant beats.
SINUS_P_FRACTION = 0.8
SINUS_LOCKED_P_FRACTION = 0.5
SINUS_LOCKED_COHERENCE = 20.0
MIN_DOMINANT_BEATS = 3
# Mason 2007 (part II) and Surawicz 2009 (part III, adult rate limits): tachycardia > 100 bpm,
# bradycardia < 60 bpm.
TACHYCARDIA_BPM = 100.0
BRADYCARDIA_BPM = 60.0
# Sinus arrhythmia: P-P (here dominant N-N) intervals vary by more than 120 ms (the conventional
# 0.12 s limit, e.g. Goldberger, Clinical Electrocardiography, 9th ed.).
SINUS_ARRHYTHMIA_RANGE_MS = 120.0
# Atrial fibrillation support: irregularly irregular RR and no P waves. Irregularity as normalised
# RMSSD (RMS of successive RR differences / mean RR) >= 0.10, the limit of Dash et al. 2009 (Ann
# Biomed Eng 37:1701); P waves before fewer than 30 % of beats. The irregularity is that of the
# dominant rhythm: successive differences of RR intervals whose both ends are neither S nor V
# beats, so a few premature beats in a regular rhythm (e.g. CinC JS20007, PACs) are not AF. Where
# ectopy leaves fewer than ``AF_MIN_DIFFERENCES`` such differences (frequent ectopy or bigeminy), all
# RRs are used. Chosen on LUDB and ptbxl-sph (label 50), docs/measurements.md.
AF_NRMSSD = 0.10
AF_MAX_P_FRACTION = 0.3
# ... and no atrial activity locked to the QRS (measurements.atrial: the pre-QRS segments of the
# dominant beats do not average into a wave). Fibrillatory waves are not locked to the QRS; P waves
# that the P detector missed (tachycardia, P on the preceding T, low amplitude) and flutter waves at
# a fixed conduction ratio are, so such rhythms are not called AF. 10 lies between AF (ptbxl-sph:
# median 1.3, 90th percentile 6.1) and the rest (5th percentile 14), docs/measurements.md.
AF_MAX_COHERENCE = 10.0
AF_MIN_INTERVALS = 5
AF_MIN_DIFFERENCES = 4
# Ventricular response in AF (Mason 2007): rapid > 100 bpm, slow < 60 bpm.
# Premature complexes: "frequent" when more than 6 per minute (more than one in a 10-s record);
# AHA part II names the modifiers without numbers, so this limit is ours and documented.
FREQUENT_PER_MINUTE = 6.0
# Bigeminy / trigeminy: at least 3 consecutive cycles of N-X / N-N-X.
PATTERN_CYCLES = 3

CODE_APC, CODE_VPC, CODE_AF, CODE_FLUTTER = 30, 60, 50, 51
OCCASIONAL, FREQUENT, COUPLETS, BIGEMINAL, TRIGEMINAL = 308, 310, 340, 341, 342
RAPID_RESPONSE, SLOW_RESPONSE = 346, 347


def _dominant_nn_ms(beats: Beats) -> np.ndarray:
    """Intervals between consecutive beats that are both dominant (N), ms."""
    r = np.asarray(beats.r_peaks, dtype=np.float64)
    if len(r) < 2:
        return np.zeros(0)
    normal = np.asarray([c == "N" for c in beats.classes])
    both = normal[1:] & normal[:-1]
    return (np.diff(r) / beats.fs * 1000.0)[both]


def _p_fraction(beats: Beats, only_normal: bool) -> float:
    p = np.asarray(beats.p_present, dtype=bool)
    if only_normal:
        p = p[np.asarray([c == "N" for c in beats.classes], dtype=bool)]
    return float(p.mean()) if len(p) else 0.0


def _nrmssd(beats: Beats) -> float | None:
    """Normalised RMSSD of the dominant rhythm: intervals next to S, V or unclassified (Q: artefact,
    aberrant) beats left out, see above."""
    rr = np.diff(np.asarray(beats.r_peaks, dtype=np.float64)) / beats.fs
    if len(rr) < AF_MIN_INTERVALS or rr.mean() <= 0:
        return None
    not_ectopic = np.asarray([c == "N" for c in beats.classes], dtype=bool)
    clean = not_ectopic[1:] & not_ectopic[:-1]  # per interval
    pairs = clean[1:] & clean[:-1]  # per successive difference
    if int(pairs.sum()) >= AF_MIN_DIFFERENCES:
        return float(np.sqrt(np.mean(np.diff(rr)[pairs] ** 2)) / rr[clean].mean())
    return float(np.sqrt(np.mean(np.diff(rr) ** 2)) / rr.mean())


def is_af_like(m: Measurements) -> bool:
    """Irregularly irregular RR, no P waves and no atrial activity locked to the QRS (atrial
    fibrillation); never in a paced recording, nor where regular flutter waves were measured."""
    irregularity = _nrmssd(m.beats)
    return (
        not m.paced
        and m.rhythm != "atrial_flutter"
        and irregularity is not None
        and irregularity >= AF_NRMSSD
        and _p_fraction(m.beats, only_normal=False) < AF_MAX_P_FRACTION
        and m.pre_qrs_coherence is not None
        and m.pre_qrs_coherence < AF_MAX_COHERENCE
    )


def is_sinus(m: Measurements) -> bool:
    """P waves before at least 80 % of the dominant beats, or before at least half of them where the
    median beat has a measured PR and the atrial activity is locked to the QRS (noise blurs single
    P waves, not their average); never fibrillation-like or paced."""
    dominant = sum(1 for c in m.beats.classes if c == "N")
    if dominant < MIN_DOMINANT_BEATS or m.paced or is_af_like(m):
        return False
    fraction = _p_fraction(m.beats, only_normal=True)
    if fraction >= SINUS_P_FRACTION:
        return True
    locked = m.pre_qrs_coherence is not None and m.pre_qrs_coherence >= SINUS_LOCKED_COHERENCE
    return m.pr_ms is not None and locked and fraction >= SINUS_LOCKED_P_FRACTION


def sinus_rate_bpm(m: Measurements) -> float | None:
    """The sinus node's rate: the P-to-P rate of consecutive dominant beats where measured, else the
    dominant rhythm's cycle (post-ectopic cycles in bigeminy)."""
    if m.atrial_rate_bpm is not None:
        return m.atrial_rate_bpm
    return 60000.0 / m.rr_mean_ms if m.rr_mean_ms else None


def sinus_statements(m: Measurements) -> list[RuleStatement]:
    """21 sinus tachycardia, 22 sinus bradycardia, 23 sinus arrhythmia (sinus rhythm only)."""
    if not is_sinus(m):
        return []
    out = []
    hr = m.heart_rate_bpm
    sinus_rate = sinus_rate_bpm(m)
    if hr is not None and hr > TACHYCARDIA_BPM:
        out.append(
            RuleStatement(21, f"sinus rhythm, HR {hr:.0f} bpm > {TACHYCARDIA_BPM:.0f} (AHA 2007 part II)")
        )
    elif hr is not None and hr < BRADYCARDIA_BPM:
        out.append(
            RuleStatement(22, f"sinus rhythm, HR {hr:.0f} bpm < {BRADYCARDIA_BPM:.0f} (AHA 2007 part II)")
        )
    elif sinus_rate is not None and sinus_rate < BRADYCARDIA_BPM and hr is not None and hr <= TACHYCARDIA_BPM:
        # Premature beats raise the ventricular rate; the sinus node's own rate is what is slow.
        out.append(
            RuleStatement(
                22,
                f"sinus rate {sinus_rate:.0f} bpm < {BRADYCARDIA_BPM:.0f} (ventricular rate {hr:.0f} bpm "
                "with premature beats; AHA 2007 part II)",
            )
        )
    nn = _dominant_nn_ms(m.beats)
    if len(nn) >= 2:
        spread = float(nn.max() - nn.min())
        if spread > SINUS_ARRHYTHMIA_RANGE_MS:
            out.append(
                RuleStatement(
                    23,
                    f"sinus rhythm, N-N intervals vary by {spread:.0f} ms > {SINUS_ARRHYTHMIA_RANGE_MS:.0f}",
                )
            )
    return out


def _pattern_cycles(classes: tuple[str, ...], target: str, period: int) -> int:
    """Most consecutive cycles of (period-1) x N followed by one ``target`` beat."""
    best = 0
    for phase in range(period):
        run = 0
        for start in range(phase, len(classes) - period + 1, period):
            cycle = classes[start : start + period]
            if all(c == "N" for c in cycle[:-1]) and cycle[-1] == target:
                run += 1
                best = max(best, run)
            else:
                run = 0
    return best


def premature_statements(m: Measurements) -> list[RuleStatement]:
    """30 / 60 with 308 occasional or 310 frequent, and 340 couplets, 341 bigeminal, 342 trigeminal."""
    classes = m.beats.classes
    r = np.asarray(m.beats.r_peaks)
    minutes = (float(r[-1] - r[0]) / m.beats.fs / 60.0) if len(r) >= 2 else 0.0
    out = []
    for target, code, name in (("S", CODE_APC, "supraventricular"), ("V", CODE_VPC, "ventricular")):
        count = sum(1 for c in classes if c == target)
        if count == 0:
            continue
        out.append(RuleStatement(code, f"{count} {name} premature beat(s) of {len(classes)}"))
        per_minute = count / minutes if minutes > 0 else float("inf")
        if count >= 2 and per_minute > FREQUENT_PER_MINUTE:
            out.append(
                RuleStatement(
                    FREQUENT, f"{count} in {minutes * 60:.0f} s (> {FREQUENT_PER_MINUTE:.0f}/min)", code
                )
            )
        else:
            out.append(RuleStatement(OCCASIONAL, f"{count} in {minutes * 60:.0f} s", code))
        if any(a == b == target for a, b in zip(classes, classes[1:], strict=False)):
            out.append(RuleStatement(COUPLETS, f"two consecutive {name} premature beats", code))
        if _pattern_cycles(classes, target, 2) >= PATTERN_CYCLES:
            out.append(RuleStatement(BIGEMINAL, f">= {PATTERN_CYCLES} cycles of normal-premature", code))
        if _pattern_cycles(classes, target, 3) >= PATTERN_CYCLES:
            out.append(
                RuleStatement(TRIGEMINAL, f">= {PATTERN_CYCLES} cycles of normal-normal-premature", code)
            )
    return out


def is_atrial_tachyarrhythmia(m: Measurements) -> bool:
    """Atrial fibrillation or flutter: no P waves to measure a PR from, no atrial premature beats."""
    return m.rhythm == "atrial_flutter" or is_af_like(m)


def _ventricular_response(m: Measurements, code: int) -> list[RuleStatement]:
    """346 rapid / 347 slow ventricular response (Mason 2007) to ``code``, from the mean RR."""
    rr = np.diff(np.asarray(m.beats.r_peaks, dtype=np.float64)) / m.beats.fs
    rate = 60.0 / float(rr.mean())
    if rate > TACHYCARDIA_BPM:
        return [
            RuleStatement(RAPID_RESPONSE, f"ventricular rate {rate:.0f} bpm > {TACHYCARDIA_BPM:.0f}", code)
        ]
    if rate < BRADYCARDIA_BPM:
        return [
            RuleStatement(SLOW_RESPONSE, f"ventricular rate {rate:.0f} bpm < {BRADYCARDIA_BPM:.0f}", code)
        ]
    return []


def af_statements(m: Measurements) -> list[RuleStatement]:
    """50 atrial fibrillation (support) with 346 rapid / 347 slow ventricular response."""
    if not is_af_like(m):
        return []
    irregularity = _nrmssd(m.beats) or 0.0
    coherence = m.pre_qrs_coherence or 0.0
    return [
        RuleStatement(
            CODE_AF,
            f"irregular RR (nRMSSD {irregularity:.2f} >= {AF_NRMSSD}), no P waves, no atrial activity "
            f"locked to the QRS (coherence {coherence:.1f} < {AF_MAX_COHERENCE:.0f})",
        ),
        *_ventricular_response(m, CODE_AF),
    ]


def flutter_statements(m: Measurements) -> list[RuleStatement]:
    """51 atrial flutter (regular flutter waves between the QRS, ``measurements.flutter``) with 346 /
    347 for its ventricular response."""
    if m.rhythm != "atrial_flutter" or m.paced:
        return []
    rate = f" at {m.atrial_rate_bpm:.0f}/min" if m.atrial_rate_bpm is not None else ""
    return [
        RuleStatement(
            CODE_FLUTTER, f"regular atrial waves{rate} repeating between the QRS complexes, no P waves"
        ),
        *_ventricular_response(m, CODE_FLUTTER),
    ]


# The rhythm line: a code and its text (the AHA part II rhythm names; ``undetermined`` where the
# measurements support none of them, e.g. a regular rhythm without visible P waves).
RHYTHMS: dict[str, str] = {
    "sinus": "Sinus rhythm",
    "atrial_fibrillation": "Atrial fibrillation",
    "atrial_flutter": "Atrial flutter",
    "paced": "Paced rhythm",
    "undetermined": "Rhythm undetermined (no consistent P waves)",
}


def rhythm_call(m: Measurements) -> str | None:
    """The measured rhythm (a ``RHYTHMS`` key); None where too few beats were found."""
    if len(m.beats.classes) < MIN_DOMINANT_BEATS:
        return None
    if m.paced:
        return "paced"
    if m.rhythm == "atrial_flutter":  # measured from the signal (measurements.flutter), kept
        return "atrial_flutter"
    if is_af_like(m):
        return "atrial_fibrillation"
    if is_sinus(m):
        return "sinus"
    return "undetermined"
