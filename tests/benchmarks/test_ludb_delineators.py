"""The pure parts of the third-party delineator adapters (the packages themselves are the optional
``bench`` extra and are not imported here)."""

from __future__ import annotations

import numpy as np

from benchmarks.ludb_delineators import _record, combine_rank

NAN = np.nan


def test_rank_combination_takes_the_second_earliest_onsets_and_second_latest_offsets() -> None:
    # one beat, four leads: P on, QRS on, QRS off, T off
    p_on = np.array([[100.0, 90.0, 95.0, NAN]])
    qrs_on = np.array([[200.0, 190.0, 205.0, 198.0]])
    qrs_off = np.array([[250.0, 262.0, 255.0, NAN]])
    t_off = np.array([[400.0, 420.0, 410.0, 390.0]])
    p, on, off, t = combine_rank([p_on, qrs_on, qrs_off, t_off])
    assert (p[0], on[0], off[0], t[0]) == (95.0, 198.0, 255.0, 410.0)
    strict = combine_rank([p_on, qrs_on, qrs_off, t_off], rank=0)
    assert (strict[0][0], strict[1][0], strict[2][0], strict[3][0]) == (90.0, 190.0, 262.0, 420.0)


def test_a_mark_seen_in_fewer_than_three_leads_is_not_combined() -> None:
    marks = np.array([[100.0, 101.0, NAN, NAN]])
    assert np.isnan(combine_rank([marks, marks, marks, marks])[0][0])


def test_record_intervals_are_medians_over_beats_in_ms() -> None:
    p_on = np.array([100.0, 600.0, NAN])
    qrs_on = np.array([180.0, 682.0, 1180.0])
    qrs_off = np.array([225.0, 727.0, 1230.0])
    t_off = np.array([380.0, NAN, 1380.0])
    out = _record([p_on, qrs_on, qrs_off, t_off], 500.0)
    assert out == {"pr_ms": 162.0, "qrs_ms": 90.0, "qt_ms": 400.0}
