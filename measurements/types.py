"""Result types of the measurement package: the contract between measuring, rules, fusion and IO.

Everything here is plain data (frozen dataclasses, numpy arrays, floats). A value that cannot be
measured reliably is ``None`` and its field name maps to a short reason code in ``missing``
(e.g. ``"pr_ms": "no_p_waves"``); a measured value is never a guess.

Units: milliseconds, beats per minute, degrees (frontal plane, -180..180, 0 = lead I direction,
+90 = aVF), millivolts. Sample indices refer to the signal at its native rate ``fs``.
Lead order everywhere is ``schemas.STANDARD_LEADS``: I II III aVR aVL aVF V1-V6.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = [
    "BEAT_CLASSES",
    "BeatClass",
    "Beats",
    "LeadQuality",
    "Measurements",
    "QualityReport",
    "QualityVerdict",
    "RuleStatement",
]

# N normal (dominant rhythm), S supraventricular premature, V ventricular premature, Q unclassified.
BeatClass = Literal["N", "S", "V", "Q"]
BEAT_CLASSES: tuple[BeatClass, ...] = ("N", "S", "V", "Q")

QualityVerdict = Literal["good", "acceptable", "unreadable"]


@dataclass(frozen=True)
class Beats:
    """Detected beats of one recording."""

    r_peaks: np.ndarray  # (n,) int64 sample indices at fs
    classes: tuple[BeatClass, ...]  # one per beat
    p_present: np.ndarray  # (n,) bool: a P wave precedes the QRS
    fs: float

    def counts(self) -> dict[str, int]:
        """Beats per class, every class present as a key."""
        return {c: sum(1 for k in self.classes if k == c) for c in BEAT_CLASSES}


@dataclass(frozen=True)
class Measurements:
    """Global measurements of one 12-lead recording, as clinical programs report them."""

    fs: float
    beats: Beats
    # Rate and rhythm. ``heart_rate_bpm`` is the ventricular rate: every QRS over the recording (as
    # carts print it); ``atrial_rate_bpm`` the rate of the P waves of the dominant beats (sinus rate).
    heart_rate_bpm: float | None = None
    rr_mean_ms: float | None = None
    rr_sd_ms: float | None = None
    rr_irregularity: float | None = None  # dimensionless; see measurements.rhythm for the definition
    # Global intervals from the representative (median) beat over the leads.
    pr_ms: float | None = None
    qrs_ms: float | None = None
    qt_ms: float | None = None
    qtc_bazett_ms: float | None = None
    qtc_fridericia_ms: float | None = None
    # Frontal-plane axes.
    p_axis_deg: float | None = None
    qrs_axis_deg: float | None = None
    t_axis_deg: float | None = None
    # Per lead (12 entries, STANDARD_LEADS order; None where not measurable), mV.
    qrs_amplitude_mv: tuple[float | None, ...] = ()  # peak-to-peak of the median beat's QRS
    r_amplitude_mv: tuple[float | None, ...] = ()
    s_amplitude_mv: tuple[float | None, ...] = ()  # magnitude (positive number)
    st_j_mv: tuple[float | None, ...] = ()  # ST level at the J point (global QRS end) vs the PR baseline
    st_j60_mv: tuple[float | None, ...] = ()  # ST level at J+60 ms relative to the PR baseline
    # Voltage criteria, mV.
    sokolow_lyon_mv: float | None = None  # S(V1) + max(R(V5), R(V6))
    cornell_mv: float | None = None  # R(aVL) + S(V3)
    missing: Mapping[str, str] = field(default_factory=dict)  # field name -> reason code
    # Pacemaker spikes precede most beats (measurements.pacing); None where it could not be judged.
    paced: bool | None = None
    atrial_rate_bpm: float | None = None
    # How coherent the segment before the dominant QRS is (measurements.atrial): high with P waves.
    pre_qrs_coherence: float | None = None
    # The rate from the limb and precordial leads separately agrees with the whole (no lead group's
    # noise made or hid beats); None where only one group was usable.
    rate_confirmed: bool | None = None
    # The rhythm (measurements.rhythm_call.RHYTHMS), None where not measured.
    rhythm: str | None = None
    excluded_leads: tuple[str, ...] = ()  # leads left out of every measurement (unreadable)


@dataclass(frozen=True)
class LeadQuality:
    """Signal quality of one lead; ``problems`` are reason codes, empty when good."""

    lead: str
    verdict: QualityVerdict
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class QualityReport:
    """Signal quality of a recording: one verdict, per-lead detail and recording-level problems."""

    verdict: QualityVerdict
    leads: tuple[LeadQuality, ...]
    problems: tuple[str, ...] = ()  # recording-level reason codes (e.g. limb_lead_reversal)

    @property
    def readable(self) -> bool:
        return self.verdict != "unreadable"


@dataclass(frozen=True)
class RuleStatement:
    """An AHA statement decided from measurements, with the criterion that fired.

    ``modifies`` is the primary statement code a modifier (e.g. 310 frequent) belongs to, as in the
    SPH grammar ``30+310``; None for a primary statement. ``requirement`` is True when the rule only
    states that a measured requirement of the statement holds (e.g. QRS >= 120 ms for 104/106): not
    a diagnosis by itself, for fusion to gate the model with (``measurements.rules.RULE_CODES``).
    """

    code: int
    evidence: str  # e.g. "HR 112 bpm > 100 (AHA/ACCF/HRS 2009, part II)"
    modifies: int | None = None
    requirement: bool = False
