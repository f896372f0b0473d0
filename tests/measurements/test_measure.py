"""Pure tests of ``measurements.measure`` on synthetic beats with known intervals, axes and rhythm."""

from __future__ import annotations

import numpy as np
import pytest

from measurements import measure, measure_batch
from measurements.rhythm import irregularity_index
from tests.measurements.synthetic import FS, beat_train


def regular(rr: float = 0.8, start: float = 0.5, duration: float = 10.0) -> list[float]:
    return list(np.arange(start, duration - 0.5, rr))


def test_known_intervals_and_rate() -> None:
    m = measure(beat_train(regular(0.8), pr_s=0.16, qrs_s=0.09, qt_s=0.38), FS)
    assert m.heart_rate_bpm == pytest.approx(75.0, abs=1.0)
    assert m.rr_mean_ms == pytest.approx(800.0, abs=5.0)
    assert m.pr_ms == pytest.approx(160.0, abs=16.0)
    assert m.qrs_ms == pytest.approx(90.0, abs=16.0)
    assert m.qt_ms == pytest.approx(380.0, abs=30.0)
    assert m.qtc_bazett_ms == pytest.approx(m.qt_ms / np.sqrt(0.8), rel=0.02)
    assert m.qtc_fridericia_ms == pytest.approx(m.qt_ms / 0.8 ** (1 / 3), rel=0.02)
    assert set(m.beats.classes) == {"N"}
    assert m.beats.p_present.all()


def test_long_pr_is_measured_longer() -> None:
    short = measure(beat_train(regular(0.9), pr_s=0.14), FS).pr_ms
    long = measure(beat_train(regular(0.9), pr_s=0.26), FS).pr_ms
    assert short is not None and long is not None
    assert long - short == pytest.approx(120.0, abs=20.0)


@pytest.mark.parametrize("axis", [-60.0, 0.0, 45.0, 90.0, 150.0])
def test_qrs_axis_follows_the_vector(axis: float) -> None:
    m = measure(beat_train(regular(0.8), qrs_axis=axis, t_axis=axis, p_axis=axis), FS)
    assert m.qrs_axis_deg is not None
    diff = (m.qrs_axis_deg - axis + 180) % 360 - 180
    assert abs(diff) < 10


def test_axis_signs_left_and_right() -> None:
    left = measure(beat_train(regular(0.8), qrs_axis=-45.0), FS).qrs_axis_deg
    right = measure(beat_train(regular(0.8), qrs_axis=120.0), FS).qrs_axis_deg
    assert left is not None and left < -30
    assert right is not None and right > 90


def test_premature_ventricular_beats_do_not_pull_the_rate() -> None:
    times = regular(1.0, start=0.6)  # 60 bpm
    # Two PVCs 0.55 s after a normal beat, each followed by a full compensatory pause (the sinus beat
    # the PVC hides is not conducted).
    for k in (3, 7):
        times[k] = times[k - 1] + 0.55
    pvc_index = {3, 7}
    m = measure(beat_train(times, wide=pvc_index), FS)
    assert m.heart_rate_bpm == pytest.approx(60.0, abs=2.0)
    assert [i for i, c in enumerate(m.beats.classes) if c == "V"] == sorted(pvc_index)
    assert m.beats.counts()["V"] == 2
    instantaneous = 60.0 / np.diff(times)
    assert (
        float(np.max(instantaneous)) > 100
    )  # what an instantaneous-rate program would be pulled by  # what a mean-rate program would report


def test_premature_atrial_beat_is_supraventricular() -> None:
    # Sinus at 60 bpm; an atrial premature beat 0.6 s after beat 4 resets the sinus node.
    times = [0.6, 1.6, 2.6, 3.6, 4.6, 5.2, 6.2, 7.2, 8.2, 9.2]
    m = measure(beat_train(times), FS)
    assert m.beats.classes[5] == "S"
    assert m.beats.counts()["S"] == 1
    # The heart rate is the ventricular rate (every QRS, as carts print it): 9 intervals in 8.6 s;
    # the dominant rhythm's RR stays the sinus cycle.
    assert m.heart_rate_bpm == pytest.approx(60.0 * 9 / 8.6, abs=0.5)
    assert m.rr_mean_ms == pytest.approx(1000.0, abs=20.0)


def test_irregularity_index_separates_regular_from_irregular() -> None:
    regular_rr = np.full(12, 0.8) + np.linspace(0, 0.02, 12)
    rng = np.random.default_rng(3)
    irregular_rr = rng.uniform(0.4, 1.1, 12)
    assert irregularity_index(regular_rr) < 0.05  # type: ignore[operator]
    assert irregularity_index(irregular_rr) > 0.15  # type: ignore[operator]
    assert irregularity_index(np.array([0.8, 0.8])) is None


def test_missing_p_waves_give_null_pr_with_reason() -> None:
    times = regular(0.8)
    m = measure(beat_train(times, no_p=set(range(len(times)))), FS)
    assert m.pr_ms is None and m.missing["pr_ms"] == "no_p_waves"
    assert m.p_axis_deg is None and "p_axis_deg" in m.missing
    assert not m.beats.p_present.any()
    assert m.qrs_ms is not None


@pytest.mark.parametrize(
    ("signal", "fs", "reason"),
    [
        (np.zeros((12, 5000)), FS, "no_signal"),
        (np.zeros((12, 600)), FS, "too_short"),
        (np.full((12, 5000), np.nan), FS, "invalid_signal"),
        (np.zeros((8, 5000)), FS, "invalid_signal"),
    ],
)
def test_unmeasurable_input_gives_nulls_with_reasons(signal: np.ndarray, fs: float, reason: str) -> None:
    m = measure(signal, fs)
    assert m.heart_rate_bpm is None and m.qrs_ms is None and m.qt_ms is None
    assert m.missing["heart_rate_bpm"] == reason
    assert m.missing["qrs_ms"] == reason


def test_noise_only_never_raises_and_reports_nothing_as_a_guess() -> None:
    rng = np.random.default_rng(0)
    m = measure(rng.normal(0, 0.3, (12, 5000)), FS)
    for name in ("pr_ms", "qrs_ms", "qt_ms"):
        assert getattr(m, name) is None or name not in m.missing


def test_batch_matches_single() -> None:
    a = beat_train(regular(0.8))
    b = beat_train(regular(0.6))
    out = measure_batch([a, np.zeros((12, 100)), b], [FS, FS, FS])
    assert out[0].heart_rate_bpm == measure(a, FS).heart_rate_bpm
    assert out[1].missing["qrs_ms"] == "too_short"
    assert out[2].heart_rate_bpm == pytest.approx(100.0, abs=1.5)


def test_voltage_criteria_from_the_median_beat() -> None:
    m = measure(beat_train(regular(0.8)), FS)
    assert len(m.qrs_amplitude_mv) == 12 and len(m.st_j60_mv) == 12
    r, s = m.r_amplitude_mv, m.s_amplitude_mv
    assert m.sokolow_lyon_mv == pytest.approx(s[6] + max(r[10], r[11]), abs=1e-3)  # type: ignore[operator]
    assert m.cornell_mv == pytest.approx(r[4] + s[8], abs=1e-3)  # type: ignore[operator]
    assert r[1] == pytest.approx(1.2 * np.sin(np.radians(90)), abs=0.25)  # lead II along a 60-degree axis


def test_bigeminy_rate_comes_from_the_dominant_cycles() -> None:
    # Atrial bigeminy: sinus beat, premature beat 0.55 s later, pause of 1.1 s to the next sinus beat.
    times, t = [], 0.5
    while t < 9.3:
        times += [t, t + 0.55]
        t += 1.65
    m = measure(beat_train(times), FS)
    assert m.beats.classes[1::2].count("S") >= len(times) // 2 - 1
    assert m.rr_irregularity is not None and m.rr_irregularity < 0.12  # fixed coupling: not AF
    # The heart rate is the ventricular rate (every QRS); the dominant (post-ectopic) cycle is 1.1 s.
    assert m.heart_rate_bpm == pytest.approx(60 / (1.65 / 2), abs=3.0)
    assert m.rr_mean_ms == pytest.approx(1100.0, abs=40.0)
    # The T window ends before the premature beat, not a dominant RR after R.
    assert m.qt_ms == pytest.approx(380.0, abs=30.0)
