"""Statements from measurements: every rule, its boundaries, and when rules stay silent. Pure tests
on hand-built Measurements (the criteria are arithmetic on measured values), and the AF rule on a
real CinC record with premature beats."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ingest import read_recording
from measurements import measure
from measurements.rules import RULE_CODES, rule_statements
from measurements.types import Beats, LeadQuality, Measurements, QualityReport
from tests.conftest import shared_data_dir

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
FS = 500.0
GOOD = QualityReport("good", tuple(LeadQuality(name, "good") for name in LEADS))


def beats(rr_ms: list[float], classes: str | None = None, p: list[bool] | None = None) -> Beats:
    """Beats at the given RR intervals (ms); classes one letter per beat (default all N)."""
    r = np.concatenate([[250.0], 250.0 + np.cumsum(rr_ms)]) * FS / 1000.0
    n = len(r)
    cls = tuple(classes) if classes is not None else ("N",) * n
    assert len(cls) == n
    present = np.asarray(p if p is not None else [c == "N" for c in cls], dtype=bool)
    return Beats(r_peaks=r.astype(np.int64), classes=cls, p_present=present, fs=FS)  # type: ignore[arg-type]


def regular(hr: float, n: int = 10) -> Beats:
    return beats([60000.0 / hr] * (n - 1))


def meas(b: Beats | None = None, **values: object) -> Measurements:
    b = b if b is not None else regular(75)
    rr = np.diff(b.r_peaks) / FS * 1000.0
    defaults: dict[str, object] = {
        "heart_rate_bpm": 60000.0 / float(np.median(rr)),
        "rr_mean_ms": float(rr.mean()),
        "rr_sd_ms": float(rr.std()),
        "pr_ms": 160.0,
        "qrs_ms": 90.0,
        "qt_ms": 380.0,
        "qtc_bazett_ms": 410.0,
        "qtc_fridericia_ms": 405.0,
        "qrs_axis_deg": 45.0,
        "qrs_amplitude_mv": (1.0,) * 12,
        "sokolow_lyon_mv": 2.0,
        "cornell_mv": 1.0,
    }
    defaults.update(values)
    return Measurements(fs=FS, beats=b, **defaults)  # type: ignore[arg-type]


def codes(
    m: Measurements, q: QualityReport = GOOD, sex: str | None = "M", age: float | None = 50.0, **kw: bool
) -> set:
    return {
        (s.code, s.modifies) if s.modifies else s.code for s in rule_statements(m, q, sex=sex, age=age, **kw)
    }


def test_normal_record_has_no_statement() -> None:
    assert codes(meas()) == set()


@pytest.mark.parametrize(
    ("hr", "expected"),
    [(100.0, set()), (101.0, {21}), (60.0, set()), (59.0, {22}), (120.0, {21}), (45.0, {22})],
)
def test_sinus_rate_boundaries(hr: float, expected: set) -> None:
    assert codes(meas(regular(hr), heart_rate_bpm=hr)) == expected


def test_tachycardia_without_p_waves_is_not_sinus() -> None:
    b = regular(130)
    b = replace(b, p_present=np.zeros(len(b.r_peaks), dtype=bool))
    assert 21 not in codes(meas(b, heart_rate_bpm=130.0, pr_ms=None))


def test_sinus_needs_p_before_most_dominant_beats() -> None:
    b = regular(120, n=10)
    mostly = replace(b, p_present=np.array([True] * 8 + [False] * 2))
    assert 21 in codes(meas(mostly, heart_rate_bpm=120.0))
    few = replace(b, p_present=np.array([True] * 7 + [False] * 3))
    assert 21 not in codes(meas(few, heart_rate_bpm=120.0))


@pytest.mark.parametrize(("spread", "expected"), [(120.0, False), (122.0, True)])  # 2-ms samples
def test_sinus_arrhythmia_boundary(spread: float, expected: bool) -> None:
    rr = [800.0, 800.0 + spread, 800.0, 850.0, 800.0, 820.0]
    assert (23 in codes(meas(beats(rr)))) is expected


@pytest.mark.parametrize(
    ("pr", "expected"), [(119.0, {80}), (120.0, set()), (200.0, set()), (201.0, {82}), (320.0, {82})]
)
def test_pr_boundaries(pr: float, expected: set) -> None:
    assert codes(meas(pr_ms=pr)) == expected


def test_no_pr_statement_without_a_pr() -> None:
    assert codes(meas(pr_ms=None)) == set()


@pytest.mark.parametrize(
    ("axis", "expected"),
    [
        (-30.0, set()),
        (-31.0, {121}),
        (-90.0, {121}),
        (-120.0, set()),
        (90.0, set()),
        (91.0, {120}),
        (180.0, {120}),
    ],
)
def test_axis_boundaries(axis: float, expected: set) -> None:
    """121 is left-axis, 120 right-axis deviation in SPH's code.csv; -90..-180 is neither."""
    assert codes(meas(qrs_axis_deg=axis)) == expected


def test_axis_needs_readable_limb_leads() -> None:
    leads = tuple(
        LeadQuality(n, "unreadable" if n == "aVL" else "good", ("lead_off",) if n == "aVL" else ())
        for n in LEADS
    )
    q = QualityReport("acceptable", leads)
    assert codes(meas(qrs_axis_deg=-60.0), q) == set()


@pytest.mark.parametrize(
    ("sex", "qtc", "expected"),
    [
        ("M", 449.0, False),
        ("M", 450.0, True),
        ("F", 459.0, False),
        ("F", 460.0, True),
        (None, 455.0, False),
        (None, 460.0, True),
    ],
)
def test_qtc_sex_specific_limits(sex: str | None, qtc: float, expected: bool) -> None:
    assert (148 in codes(meas(qtc_fridericia_ms=qtc, qtc_bazett_ms=qtc + 30), sex=sex)) is expected


def test_qtc_falls_back_to_bazett() -> None:
    assert 148 in codes(meas(qtc_fridericia_ms=None, qtc_bazett_ms=470.0))
    assert 148 not in codes(meas(qtc_fridericia_ms=None, qtc_bazett_ms=None))


def test_premature_beats_occasional_and_frequent() -> None:
    one_v = beats([800.0] * 9, classes="NNNNVNNNNN")
    assert codes(meas(one_v)) == {60, (308, 60)}
    two_s = beats([800.0] * 9, classes="NNSNNNNSNN")
    assert codes(meas(two_s)) == {30, (310, 30)}


def test_couplets_bigeminy_trigeminy() -> None:
    couplet = beats([800.0] * 9, classes="NNNVVNNNNN")
    assert (340, 60) in codes(meas(couplet))
    bigeminy = beats([800.0] * 9, classes="NVNVNVNNNN")
    assert (341, 60) in codes(meas(bigeminy))
    assert (342, 60) not in codes(meas(bigeminy))
    short_bigeminy = beats([800.0] * 9, classes="NVNVNNNNNN")
    assert (341, 60) not in codes(meas(short_bigeminy))
    trigeminy = beats([800.0] * 9, classes="NNSNNSNNSN")
    assert {(342, 30), (310, 30)} <= codes(meas(trigeminy))
    assert (341, 30) not in codes(meas(trigeminy))


def test_atrial_fibrillation_support_and_ventricular_response() -> None:
    rng = np.random.default_rng(0)
    irregular = list(rng.uniform(350, 750, size=15))  # mean ~550 ms: ~110 bpm
    b = beats(irregular, p=[False] * 16)
    got = codes(meas(b, pr_ms=None, heart_rate_bpm=110.0, pre_qrs_coherence=1.0))
    assert {50, (346, 50)} <= got
    assert 21 not in got and 22 not in got
    slow = beats(list(rng.uniform(800, 1600, size=8)), p=[False] * 9)
    assert {50, (347, 50)} <= codes(meas(slow, pr_ms=None, heart_rate_bpm=50.0, pre_qrs_coherence=1.0))
    regular_no_p = beats([600.0] * 12, p=[False] * 13)
    assert 50 not in codes(meas(regular_no_p, pr_ms=None, pre_qrs_coherence=1.0))
    # Irregular without detected P waves, but with atrial activity locked to the QRS (P waves the
    # detector missed, flutter at a fixed ratio): not fibrillation, no AF and no rapid response.
    got = codes(meas(b, pr_ms=None, heart_rate_bpm=110.0, pre_qrs_coherence=50.0))
    assert 50 not in got and (346, 50) not in got


def test_af_does_not_report_atrial_premature_beats() -> None:
    rng = np.random.default_rng(1)
    b = beats(list(rng.uniform(400, 900, size=12)), classes="NNSNNSNNNNNNN", p=[False] * 13)
    got = codes(meas(b, pr_ms=None, pre_qrs_coherence=1.0))
    assert 50 in got and 30 not in got


@pytest.mark.parametrize(
    ("qrs", "expected"),
    [(109.0, set()), (110.0, {105}), (119.0, {105}), (120.0, {104, 106}), (150.0, {104, 106})],
)
def test_qrs_width_requirements(qrs: float, expected: set) -> None:
    statements = rule_statements(meas(qrs_ms=qrs), GOOD, sex="M", age=60.0)
    assert {s.code for s in statements if s.requirement} == expected
    assert all(RULE_CODES[s.code] == "gate" for s in statements if s.requirement)


def test_low_voltage_limb_and_precordial() -> None:
    limb = (0.49,) * 6 + (1.5,) * 6
    assert 125 in codes(meas(qrs_amplitude_mv=limb))
    assert 125 not in codes(meas(qrs_amplitude_mv=(0.5,) + (0.49,) * 5 + (1.5,) * 6))
    precordial = (0.8,) * 6 + (0.99,) * 6
    assert 125 in codes(meas(qrs_amplitude_mv=precordial))
    assert 125 not in codes(meas(qrs_amplitude_mv=(0.8,) * 6 + (0.99,) * 5 + (1.0,)))
    with_gap = (None,) + (0.3,) * 5 + (1.5,) * 6
    assert 125 not in codes(meas(qrs_amplitude_mv=with_gap))


def test_amplitude_statements_only_from_millivolts() -> None:
    m = meas(qrs_amplitude_mv=(0.3,) * 12, sokolow_lyon_mv=4.0)
    assert {125, 142} <= codes(m)
    assert codes(m, amplitudes_valid=False) == set()


@pytest.mark.parametrize(
    ("sex", "sokolow", "cornell", "expected"),
    [
        ("M", 3.5, 1.0, True),
        ("M", 3.49, 2.8, False),
        ("M", 3.0, 2.81, True),
        ("F", 3.0, 2.01, True),
        ("F", 3.0, 2.0, False),
        (None, 3.0, 2.5, False),
    ],
)
def test_lvh_voltage_support(sex: str | None, sokolow: float, cornell: float, expected: bool) -> None:
    # QRS 80 ms keeps the Cornell product ((Cornell + 0.8 mV in women) x QRS) below 244 mV*ms here.
    m = meas(sokolow_lyon_mv=sokolow, cornell_mv=cornell, qrs_ms=80.0)
    assert (142 in codes(m, sex=sex)) is expected


@pytest.mark.parametrize(
    ("sex", "cornell", "qrs_ms", "r_avl", "expected"),
    [
        ("M", 2.5, 98.0, 0.5, True),  # product 245 > 244 (Molloy 1992)
        ("M", 2.5, 97.0, 0.5, False),  # 242.5
        ("F", 1.7, 98.0, 0.5, True),  # (1.7 + 0.8) x 98 = 245
        (None, 1.7, 98.0, 0.5, False),  # unknown sex: the men's product
        ("M", 1.0, 90.0, 1.1, True),  # R(aVL) >= 1.1 mV
        ("M", 1.0, 90.0, 1.09, False),
        ("M", 2.5, 120.0, 0.5, False),  # product 300, but a bundle-branch-block QRS: not used
    ],
)
def test_lvh_cornell_product_and_r_avl(
    sex: str | None, cornell: float, qrs_ms: float, r_avl: float, expected: bool
) -> None:
    r = (0.5, 0.5, 0.5, 0.5, r_avl) + (0.5,) * 7
    m = meas(sokolow_lyon_mv=2.0, cornell_mv=cornell, qrs_ms=qrs_ms, r_amplitude_mv=r)
    assert (142 in codes(m, sex=sex)) is expected
    assert 142 not in codes(replace(m, paced=True), sex=sex)  # paced complexes: no voltage criteria


def test_children_get_no_adult_criteria() -> None:
    m = meas(regular(120), heart_rate_bpm=120.0, qrs_axis_deg=100.0, qrs_ms=125.0, sokolow_lyon_mv=4.5)
    assert codes(m, age=8.0) == set()
    assert {21, 120, 142} <= codes(m, age=30.0)


def test_unreadable_quality_gives_nothing() -> None:
    q = QualityReport("unreadable", GOOD.leads, ("no_qrs",))
    assert rule_statements(meas(regular(130), heart_rate_bpm=130.0), q, sex="F", age=40.0) == ()


def test_every_statement_is_a_declared_rule_code_with_evidence() -> None:
    m = meas(beats([800.0] * 9, classes="NVNVNVNSSN"), pr_ms=230.0, qrs_ms=130.0, qrs_axis_deg=-50.0,
             qtc_fridericia_ms=480.0, qrs_amplitude_mv=(0.3,) * 12, sokolow_lyon_mv=4.0)  # fmt: skip
    statements = rule_statements(m, GOOD, sex="F", age=70.0)
    assert len(statements) >= 8
    for s in statements:
        assert s.code in RULE_CODES
        assert s.evidence
        if s.modifies is not None:
            assert s.modifies in {30, 50, 60}


def test_premature_beat_in_regular_rhythm_is_not_af() -> None:
    # One early beat (V-classified aberrant PAC, as in CinC JS20007) in a regular rhythm whose P
    # waves were not measurable: all-RR nRMSSD 0.55, dominant-rhythm nRMSSD 0.05.
    rr = [1084.0, 522.0, 1246.0, 1056.0, 1104.0, 1030.0, 1080.0, 1040.0]
    b = beats(rr, classes="NNVNNNNNN", p=[False] * 9)
    assert 50 not in codes(meas(b, pr_ms=None, pre_qrs_coherence=1.0))
    # The same irregularity without the ectopic beat's class is still AF-like.
    assert 50 in codes(meas(beats(rr, p=[False] * 9), pr_ms=None, pre_qrs_coherence=1.0))


def test_frequent_ectopy_in_af_falls_back_to_all_intervals() -> None:
    # AF with V every other beat (ptbxl-sph P11185-like): too few N-N differences, all RRs used.
    rr = [700.0, 420.0, 980.0, 510.0, 860.0, 390.0, 1020.0, 600.0, 450.0, 900.0, 530.0]
    b = beats(rr, classes="NNNVNVNVNVNV", p=[False] * 12)
    assert 50 in codes(meas(b, pr_ms=None, pre_qrs_coherence=1.0))


def test_cinc_premature_atrial_beats_are_not_af() -> None:
    # CinC JS20007: sinus bradycardia with PACs (labels 426177001, 284470004), not AF; no CinC
    # record is paced (no 10370003 label).
    rec = read_recording(shared_data_dir("cinc2021") / "JS20007.hea")
    m = measure(rec.signal, rec.fs)
    assert m.paced is False
    assert 50 not in {s.code for s in rule_statements(m, GOOD, sex="F", age=60.0)}


def _bbb(qrs: float, v1: tuple[float, float], lead_i: tuple[float, float], v6: tuple[float, float]) -> Measurements:
    r = [0.5] * 12
    s_ = [0.5] * 12
    (r[6], s_[6]), (r[0], s_[0]), (r[11], s_[11]) = v1, lead_i, v6
    return meas(qrs_ms=qrs, r_amplitude_mv=tuple(r), s_amplitude_mv=tuple(s_))


def decided(m: Measurements, sex: str | None = "M") -> set[int]:
    """Codes the rules assert (not the bare requirements such as QRS >= 120 ms for 104)."""
    return {s.code for s in rule_statements(m, GOOD, sex=sex, age=50.0) if not s.requirement}


def test_lbbb_from_the_qrs_shape() -> None:
    shape = ((0.1, 1.5), (1.2, 0.1), (1.4, 0.1))
    assert 104 in decided(_bbb(150.0, *shape))
    assert 104 not in decided(_bbb(135.0, *shape), sex="M")  # Strauss: men >= 140 ms
    assert 104 in decided(_bbb(135.0, *shape), sex="F")  # women >= 130 ms
    assert 104 not in decided(_bbb(150.0, (1.2, 0.3), (0.6, 0.5), (0.8, 0.6)))  # RBBB shape: R' in V1
    assert 104 not in decided(meas(qrs_ms=150.0, paced=True))
