"""Left bundle-branch block from the QRS shape, not only its width (Strauss et al. 2011).

Strauss, Selvester and Wagner (Am J Cardiol 107:927, 2011), "Defining left bundle branch block in
the era of cardiac resynchronization therapy": QRS >= 140 ms in men, >= 130 ms in women, and a QS or
rS complex in V1 (mid-QRS notching is the third criterion; it is not measured here). With the
AHA part III (Surawicz 2009) requirement that leads I and V6 be dominated by a broad R wave, that
separates LBBB from other wide complexes. Only ratios of amplitudes within one lead are used, so
the rule holds where the leads were scaled one by one (z-scored, unit-scaled) as well as in mV.

Measured (benchmarks, docs/measurements.md): on ptbxl-sph and LUDB records with QRS >= 120 ms,
R/S in V1 is <= 0.24 in 95 % of LBBB (53 records) and >= 1.26 in 95 % of RBBB (49); with QRS >= 140
ms the rule finds 50 of 53 LBBB, no RBBB, and 22 of 217 wide complexes without either label.
"""

from __future__ import annotations

from measurements.types import Measurements, RuleStatement

__all__ = ["LBBB_QRS_MS", "lbbb_statements"]

LBBB_QRS_MS = {"M": 140.0, "F": 130.0}
LBBB_QRS_UNKNOWN_SEX_MS = 140.0
V1_MAX_R_TO_S = 0.3  # rS or QS in V1
LATERAL_MIN_R_TO_S = 2.0  # R-dominated I and V6
LEAD_I, LEAD_V1, LEAD_V6 = 0, 6, 11


def _ratio(m: Measurements, lead: int) -> float | None:
    r = m.r_amplitude_mv[lead] if len(m.r_amplitude_mv) > lead else None
    s = m.s_amplitude_mv[lead] if len(m.s_amplitude_mv) > lead else None
    if r is None or s is None:
        return None
    return r / max(s, 1e-6)


def lbbb_statements(m: Measurements, sex: str | None) -> list[RuleStatement]:
    """104 where the QRS width and shape meet the criteria above (never on a paced recording)."""
    limit = LBBB_QRS_MS.get(sex or "", LBBB_QRS_UNKNOWN_SEX_MS)
    if m.paced or m.qrs_ms is None or m.qrs_ms < limit:
        return []
    v1, lead_i, v6 = _ratio(m, LEAD_V1), _ratio(m, LEAD_I), _ratio(m, LEAD_V6)
    if v1 is None or lead_i is None or v6 is None:
        return []
    if v1 < V1_MAX_R_TO_S and lead_i > LATERAL_MIN_R_TO_S and v6 > LATERAL_MIN_R_TO_S:
        return [
            RuleStatement(
                104,
                f"QRS {m.qrs_ms:.0f} ms >= {limit:.0f}, rS/QS in V1 (R/S {v1:.2f}), R-dominated I and V6 "
                f"(R/S {lead_i:.1f}, {v6:.1f}) (Strauss 2011; AHA 2009 part III)",
            )
        ]
    return []
