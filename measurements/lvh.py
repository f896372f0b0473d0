"""Left ventricular hypertrophy voltage criteria on millivolt input (Hancock et al. 2009, AHA/ACCF/HRS
recommendations part V, Circulation 119:e251, which lists them without preferring one):

- Sokolow-Lyon (Sokolow & Lyon 1949): S(V1) + max(R(V5), R(V6)) >= 3.5 mV;
- R(aVL) >= 1.1 mV (Sokolow & Lyon 1949, the limb-lead criterion);
- Cornell voltage (Casale et al. 1985): R(aVL) + S(V3) > 2.8 mV in men, > 2.0 mV in women;
- Cornell voltage-duration product (Molloy et al. 1992): (R(aVL) + S(V3), + 0.8 mV in women)
  x QRS duration > 244 mV*ms (2,440 mm*ms), with QRS < 120 ms only.

Unknown sex uses the men's limits (the higher ones). Voltage criteria are specific (about 90 % and
more in the published series) but insensitive; they support statement 142, they do not decide it
(``measurements.rules.RULE_CODES``). Amplitudes must be millivolts (a z-scored or per-lead scaled
recording gives meaningless voltages: the caller checks ``amplitudes_valid``).
"""

from __future__ import annotations

from measurements.types import Measurements

__all__ = ["CORNELL_MV", "CORNELL_PRODUCT_MV_MS", "R_AVL_MV", "SOKOLOW_LYON_MV", "lvh_voltage_criteria"]

AVL = 4  # STANDARD_LEADS index
SOKOLOW_LYON_MV = 3.5
R_AVL_MV = 1.1
CORNELL_MV = {"M": 2.8, "F": 2.0}
CORNELL_UNKNOWN_SEX_MV = 2.8
CORNELL_PRODUCT_MV_MS = 244.0
CORNELL_PRODUCT_FEMALE_ADD_MV = 0.8
# The product multiplies by the QRS duration: a QRS prolonged by a conduction defect (bundle-branch
# block, >= 120 ms) is not prolonged by hypertrophy, so the product is left out there (on the shared
# LUDB records it fired only on QRS 120-196 ms, none of them labelled LVH).
PRODUCT_MAX_QRS_MS = 120.0


def lvh_voltage_criteria(m: Measurements, sex: str | None) -> tuple[str, ...]:
    """The voltage criteria met, each as evidence text; empty when none is (or none measured), and
    on a paced recording (paced complexes' voltages are not hypertrophy criteria)."""
    if m.paced:
        return ()
    met = []
    if m.sokolow_lyon_mv is not None and m.sokolow_lyon_mv >= SOKOLOW_LYON_MV:
        met.append(f"Sokolow-Lyon {m.sokolow_lyon_mv:.2f} mV >= {SOKOLOW_LYON_MV}")
    r_avl = m.r_amplitude_mv[AVL] if len(m.r_amplitude_mv) > AVL else None
    if r_avl is not None and r_avl >= R_AVL_MV:
        met.append(f"R(aVL) {r_avl:.2f} mV >= {R_AVL_MV}")
    cornell_limit = CORNELL_MV.get(sex or "", CORNELL_UNKNOWN_SEX_MV)
    if m.cornell_mv is not None and m.cornell_mv > cornell_limit:
        met.append(f"Cornell {m.cornell_mv:.2f} mV > {cornell_limit} (sex {sex or 'unknown'})")
    if m.cornell_mv is not None and m.qrs_ms is not None and m.qrs_ms < PRODUCT_MAX_QRS_MS:
        product = (m.cornell_mv + (CORNELL_PRODUCT_FEMALE_ADD_MV if sex == "F" else 0.0)) * m.qrs_ms
        if product > CORNELL_PRODUCT_MV_MS:
            met.append(f"Cornell product {product:.0f} mV*ms > {CORNELL_PRODUCT_MV_MS:.0f}")
    return tuple(met)
