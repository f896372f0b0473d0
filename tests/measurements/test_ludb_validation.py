"""Global PR, QRS and QT against LUDB's cardiologists on all 100 shared records.

The IEC 60601-2-25 / CSE tolerances are |mean| <= 10, 10, 25 ms and SD <= 10, 10, 30 ms. This
implementation meets them for PR and QT and for the QRS mean (asserted at the tolerance); the QRS SD
(15.1 ms with detected-paced records excluded, docs/measurements.md) is not met and is asserted at
the achieved figure plus 0.9 ms. Records where pacing is detected are excluded (their intervals are null
by design, counted in ``n_paced``). QT is null on 7 records whose per-lead T ends do not confirm the
global one (``t_end_leads_disagree``: flutter 35, 52, AF 96, STEMI 69, 21, 57, 81); the null budget
allows one more.
"""

from __future__ import annotations

import pytest

from benchmarks.validate_ludb import compare, ours, record_paths
from tests.conftest import shared_data_dir

# interval: (max |mean| ms, max SD ms, max nulls)
BOUNDS = {"pr_ms": (10.0, 10.0, 3), "qrs_ms": (10.0, 16.0, 3), "qt_ms": (25.0, 30.0, 8)}


@pytest.fixture(scope="module")
def agreement():  # type: ignore[no-untyped-def]
    paths = record_paths(shared_data_dir("ludb"))
    assert len(paths) == 100
    return compare(paths, ours)[0]


@pytest.mark.parametrize("interval", sorted(BOUNDS))
def test_interval_agrees_with_cardiologists(agreement, interval: str) -> None:  # type: ignore[no-untyped-def]
    max_mean, max_sd, max_null = BOUNDS[interval]
    a = agreement[interval]
    assert abs(a.mean) <= max_mean, a
    assert a.sd <= max_sd, a
    assert a.n_null <= max_null, a
    assert a.n_measured >= 80, a
