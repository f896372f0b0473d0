"""ST elevation by the 4th universal definition of MI (``measurements.st_elevation``): contiguity,
the sex- and age-specific V2-V3 limits, the exclusions (paced, wide QRS, children, unreadable
leads, LVH ratio), the J-point level measured on a synthetic recording with a known elevation, and
no ST-elevation statement on the shared real records without an MI label."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ingest import read_recording
from measurements import measure
from measurements.quality import assess_quality
from measurements.rules import RULE_CODES, rule_statements
from measurements.st_elevation import LEADS, st_elevation, st_elevation_statements, v2_v3_limit_mv
from measurements.types import Beats, LeadQuality, Measurements, QualityReport
from tests.conftest import shared_data_dir
from tests.measurements.synthetic import FS, beat_train

GOOD = QualityReport("good", tuple(LeadQuality(name, "good") for name in LEADS))
R_TIMES = [0.5 + 0.8 * k for k in range(12)]


def meas(elevated: dict[str, float], **values: object) -> Measurements:
    """Hand-built measurements: ST(J) 0.0 mV except the given leads (mV)."""
    r = (np.arange(10) * 400 + 250).astype(np.int64)
    b = Beats(r, ("N",) * 10, np.ones(10, dtype=bool), FS)
    defaults: dict[str, object] = {
        "heart_rate_bpm": 75.0,
        "qrs_ms": 96.0,
        "qrs_amplitude_mv": (1.0,) * 12,
        "r_amplitude_mv": (0.5,) * 12,
        "s_amplitude_mv": (0.5,) * 12,
        "st_j_mv": tuple(elevated.get(name, 0.0) for name in LEADS),
        "sokolow_lyon_mv": 2.0,
        "cornell_mv": 1.0,
        "paced": False,
    }
    defaults.update(values)
    return Measurements(fs=FS, beats=b, **defaults)  # type: ignore[arg-type]


def groups(
    elevated: dict[str, float], *, sex: str | None = "M", age: float | None = 60.0, **values: object
) -> tuple:
    return st_elevation(meas(elevated, **values), GOOD, sex=sex, age=age).groups


@pytest.mark.parametrize(
    ("elevated", "expected"),
    [
        ({"II": 0.12, "aVF": 0.11}, ("inferior",)),
        ({"II": 0.12, "III": 0.10, "aVF": 0.15}, ("inferior",)),
        ({"I": 0.12, "V6": 0.11}, ("lateral",)),
        ({"I": 0.12, "aVL": 0.11}, ("lateral",)),
        ({"V4": 0.15, "V5": 0.12}, ("V4-V5",)),  # V5 alone is not two lateral leads
        ({"V5": 0.15, "V6": 0.12}, ("lateral", "V5-V6")),
        ({"V1": 0.12, "V2": 0.25}, ("V1-V2",)),
        ({"II": 0.3}, ()),  # one lead
        ({"II": 0.3, "V2": 0.3}, ()),  # not contiguous
        ({"V1": 0.3, "V3": 0.3}, ()),  # precordial, not adjacent (V2 normal)
        ({"aVR": 0.3, "II": 0.3}, ()),  # aVR is in no group
        ({"II": 0.09, "aVF": 0.3}, ()),  # one of them below 0.1 mV
        ({"III": 0.10, "aVF": 0.10}, ("inferior",)),  # >= is met
    ],
)
def test_contiguous_leads(elevated: dict[str, float], expected: tuple) -> None:
    assert groups(elevated) == expected


@pytest.mark.parametrize(
    ("sex", "age", "level", "met"),
    [
        ("F", 30.0, 0.15, True), ("F", 70.0, 0.15, True), ("F", 70.0, 0.14, False),
        ("M", 40.0, 0.20, True), ("M", 65.0, 0.19, False),
        ("M", 39.0, 0.24, False), ("M", 39.0, 0.25, True),
        (None, 60.0, 0.24, False), (None, 60.0, 0.25, True),  # unknown sex: the highest limit
        ("M", None, 0.24, False), ("M", None, 0.25, True),  # a man of unknown age: idem
        ("F", None, 0.15, True),
    ],
)  # fmt: skip
def test_v2_v3_limits_by_sex_and_age(sex: str | None, age: float | None, level: float, met: bool) -> None:
    assert (groups({"V2": level, "V3": level}, sex=sex, age=age) == ("V2-V3",)) is met


def test_v2_v3_limit_function() -> None:
    assert v2_v3_limit_mv("F", 25.0) == 0.15
    assert v2_v3_limit_mv("M", 40.0) == 0.20
    assert v2_v3_limit_mv("M", 39.9) == 0.25
    assert v2_v3_limit_mv(None, None) == 0.25


def test_v3_needs_its_own_limit_in_the_v3_v4_pair() -> None:
    assert groups({"V3": 0.12, "V4": 0.3}, sex="M", age=60.0) == ()
    assert groups({"V3": 0.21, "V4": 0.12}, sex="M", age=60.0) == ("V3-V4",)


@pytest.mark.parametrize(
    ("values", "age", "reason"),
    [
        ({"paced": True}, 60.0, "paced"),
        ({"qrs_ms": 120.0}, 60.0, "wide_qrs"),
        ({"qrs_ms": None}, 60.0, "qrs_not_measured"),
        ({"st_j_mv": ()}, 60.0, "not_measured"),
        ({}, 15.0, "child"),
    ],
)
def test_exclusions_say_why(values: dict, age: float, reason: str) -> None:
    found = st_elevation(meas({"II": 0.4, "III": 0.4, "aVF": 0.4}, **values), GOOD, sex="M", age=age)
    assert (found.met, found.excluded) == (False, reason)


def test_unreadable_leads_never_count() -> None:
    m = meas({"V2": 0.4, "V3": 0.4, "V4": 0.4})
    bad = QualityReport(
        "acceptable",
        tuple(LeadQuality(n, "unreadable" if n in ("V3",) else "good", ()) for n in LEADS),
    )
    assert st_elevation(m, GOOD, sex="M", age=60.0).groups == ("V2-V3", "V3-V4")
    assert st_elevation(m, bad, sex="M", age=60.0).groups == ()  # V3 out: V2 and V4 are not adjacent
    unreadable = QualityReport("unreadable", GOOD.leads, ("no_qrs",))
    assert st_elevation(m, unreadable, sex="M", age=60.0).excluded == "unreadable"


def test_lvh_needs_elevation_of_a_quarter_of_the_qrs() -> None:
    # Sokolow-Lyon 4.0 mV: discordant elevation under deep S waves (12 % of a 2.5 mV QRS) is LVH's.
    lvh: dict[str, Any] = {"sokolow_lyon_mv": 4.0, "qrs_amplitude_mv": (2.5,) * 12}
    assert groups({"V2": 0.3, "V3": 0.3}, **lvh) == ()
    assert groups({"V2": 0.3, "V3": 0.3}) == ("V2-V3",)  # the same elevation without LVH voltage
    lvh_small: dict[str, Any] = {"sokolow_lyon_mv": 4.0, "qrs_amplitude_mv": (1.0,) * 12}
    assert groups({"V2": 0.3, "V3": 0.3}, **lvh_small) == ("V2-V3",)  # 30 % of the QRS


def test_statements_and_evidence() -> None:
    m = meas({"V2": 0.31, "V3": 0.28})
    statements = st_elevation_statements(m, GOOD, sex="M", age=55.0)
    assert [(s.code, s.modifies) for s in statements] == [(145, None), (363, 145)]
    assert "V2 +0.31 mV >= 0.20" in statements[0].evidence and "V2-V3" in statements[0].evidence
    ruled = rule_statements(m, GOOD, sex="male", age=55.0)
    assert {(s.code, s.modifies) for s in ruled} >= {(145, None), (363, 145)}
    assert all(s.code in RULE_CODES for s in ruled)
    # Amplitudes not in mV (z-scored, unit-scaled): no ST statement.
    not_mv = rule_statements(m, GOOD, sex="M", age=55.0, amplitudes_valid=False)
    assert not {s.code for s in not_mv} & {145, 363}
    assert st_elevation_statements(meas({}), GOOD, sex="M", age=55.0) == []


def stemi_signal(leads: tuple[str, ...], mv: float, qrs_s: float = 0.09) -> np.ndarray:
    """Synthetic sinus beats with the ST segment of ``leads`` raised by ``mv`` from the last 20 ms of
    the QRS until the end of T (a current of injury: the QRS ends on the raised level)."""
    sig = beat_train(R_TIMES, qrs_s=qrs_s)
    t = np.arange(sig.shape[1]) / FS
    shift = np.zeros_like(t)
    for r in R_TIMES:
        j = r + qrs_s / 2
        rise = np.clip((t - (j - 0.02)) / 0.02, 0.0, 1.0)
        fall = np.clip(((j + 0.33) - t) / 0.06, 0.0, 1.0)
        shift = np.maximum(shift, np.minimum(rise, fall))
    for name in leads:
        sig[LEADS.index(name)] += mv * shift
    return sig


def test_j_point_level_is_measured_on_the_median_beat() -> None:
    m = measure(stemi_signal(("V2", "V3", "V4"), 0.3), FS)
    assert m.st_j_mv[LEADS.index("V2")] == pytest.approx(0.3, abs=0.03)
    assert m.st_j_mv[LEADS.index("V4")] == pytest.approx(0.3, abs=0.03)
    assert m.st_j_mv[LEADS.index("II")] == pytest.approx(0.0, abs=0.03)
    found = st_elevation(m, GOOD, sex="F", age=60.0)
    assert found.groups == ("V2-V3", "V3-V4") and found.leads == ("V2", "V3", "V4")
    clean = measure(beat_train(R_TIMES), FS)
    assert not st_elevation(clean, GOOD, sex="F", age=60.0).met


def test_synthetic_stemi_through_quality_and_rules() -> None:
    x = stemi_signal(("II", "III", "aVF"), 0.2)
    q = assess_quality(x, FS)
    codes = {(s.code, s.modifies) for s in rule_statements(measure(x, FS), q, sex="M", age=62.0)}
    assert (363, 145) in codes


def _mi_free(header_lines: list[str]) -> bool:
    text = " ".join(header_lines)
    return "STEMI:" not in text.replace("NSTEMI", "") and "164865005" not in text  # CinC: MI code


def test_no_st_elevation_on_shared_records_without_an_mi_label() -> None:
    """LUDB 1-100 and the 10 CinC records as the worker reads and assesses them (amplitudes taken as
    mV; LUDB's leads are scaled to one unit each, so this is a false-alarm check only)."""
    headers = [shared_data_dir("ludb") / f"{n}.hea" for n in range(1, 101)]
    headers += sorted(shared_data_dir("cinc2021").glob("*.hea"))
    fired, checked = [], 0
    for header in headers:
        lines = [line for line in header.read_text().splitlines() if line.startswith("#")]
        if not _mi_free(lines):
            continue
        rec = read_recording(header)
        m = measure(rec.signal, rec.fs)
        found = st_elevation(m, assess_quality(rec.signal, rec.fs), sex=rec.sex, age=rec.age)
        checked += 1
        if found.met:
            fired.append((header.stem, found.evidence))
    assert checked >= 100
    assert fired == []
