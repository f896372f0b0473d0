"""Global delineation on synthetic median beats with known boundaries: an unsure boundary is None
with a reason code, never a wrong value."""

from __future__ import annotations

import numpy as np

from measurements.delineation import DelineationParams, delineate
from measurements.template import MedianBeat
from tests.measurements.synthetic import FS, _hann_bump, _lead_gains

PRE_S, POST_S = 0.45, 0.70
R = int(PRE_S * FS)
N = R + int(POST_S * FS) + 1


def _bump(start_s: float, width_s: float) -> np.ndarray:
    """A Hann bump starting ``start_s`` after R (negative: before R)."""
    return _hann_bump(N, PRE_S + start_s, width_s, FS)


def _beat(t_gains: np.ndarray, t_start_s: float = 0.18, t_width_s: float = 0.20, *,
          p_start_s: float = -0.21, rr_s: float = 0.9, rr_before_s: float = 0.9) -> MedianBeat:  # fmt: skip
    """(12, N) median beat: P (100 ms), QRS 90 ms centred on R, T with per-lead gains."""
    waves = np.outer(_lead_gains(50.0), 0.15 * _bump(p_start_s, 0.10))
    waves += np.outer(_lead_gains(60.0), 1.2 * _bump(-0.045, 0.09))
    waves += t_gains[:, None] * _bump(t_start_s, t_width_s)
    return MedianBeat(waves, R, 8, FS, rr_s, rr_before_s)


def _ms(samples: int) -> float:
    return samples * 1000.0 / FS


def test_t_end_confirmed_by_the_leads_is_measured() -> None:
    fid = delineate(_beat(0.35 * _lead_gains(40.0)))
    assert fid.t_end is not None and fid.qrs_on is not None, fid.missing
    # T bump ends at R + 0.38 s; the area method stops at the end of its steep part, a little earlier.
    assert 300.0 <= _ms(fid.t_end - R) <= 385.0
    assert "t" not in fid.missing


def test_t_end_the_leads_do_not_confirm_is_none_with_a_reason() -> None:
    # Four leads carry a tall T ending at R + 0.44 s, eight a smaller one (still > 10 % of the tallest)
    # ending at R + 0.30 s: the spatial magnitude follows the tall leads, most leads end 140 ms earlier.
    late = np.zeros(12)
    late[[1, 2, 9, 10]] = 1.0
    early = np.where(late > 0, 0.0, 0.3)
    beat = _beat(np.zeros(12))
    waves = beat.waves + np.outer(early, _bump(0.10, 0.20)) + np.outer(late, _bump(0.20, 0.24))
    fid = delineate(MedianBeat(waves, R, 8, FS, 0.9, 0.9))
    assert fid.t_end is None
    assert fid.missing["t"] == "t_end_leads_disagree"
    # Without the check the same beat gets a T end: the check is what removes it.
    unchecked = delineate(MedianBeat(waves, R, 8, FS, 0.9, 0.9), DelineationParams(t_agree_s=None))
    assert unchecked.t_end is not None


def test_t_end_past_the_next_p_wave_is_not_measured() -> None:
    # The RR after these beats is 0.5 s (0.7 s before them) and the P onset 210 ms before R: the
    # next P starts at R + 0.29 s, the T ends at about R + 0.32 s (T and next P fused).
    fid = delineate(_beat(0.35 * _lead_gains(40.0), t_start_s=0.12, rr_s=0.5, rr_before_s=0.7))
    assert fid.p_on is not None, fid.missing
    assert fid.t_end is None
    assert fid.missing["t"] == "t_end_after_next_p"


def test_p_wave_cut_by_the_previous_t_has_no_onset() -> None:
    # The previous beat's T ends 0.6 s before this one's (RR before 0.6 s): the P search starts at
    # R - 0.23 s, inside a P wave that began at R - 0.26 s.
    fid = delineate(_beat(0.35 * _lead_gains(40.0), t_start_s=0.15, p_start_s=-0.26, rr_before_s=0.6))
    assert fid.qrs_on is not None
    assert fid.p_on is None
    assert fid.missing["p"] == "p_onset_unclear"


def test_p_wave_inside_its_window_is_measured() -> None:
    fid = delineate(_beat(0.35 * _lead_gains(40.0), p_start_s=-0.21))
    assert fid.p_on is not None and fid.qrs_on is not None, fid.missing
    # P starts at R - 0.21 s, QRS at R - 0.045 s: PR 165 ms (onset at 15 % of the P height: a little later).
    assert 135.0 <= _ms(fid.qrs_on - fid.p_on) <= 170.0
