"""The fusion table: for each AHA statement, which source decides it.

Modes (``FusionMode``):

- ``model``: the model decides (probability >= its threshold); a rule statement for the same code
  is attached as evidence (this is how *support* rules such as voltage criteria for 142 are used).
- ``rule``: the measurement rule decides; the model's probability is reported but not used.
- ``both``: both must say yes (AND).
- ``gate``: the model decides, but only where the measured requirement holds (a RuleStatement
  with ``requirement=True``, e.g. QRS >= 120 ms for 104/106); without it the model is overruled.
  A rule that decides the statement by itself (LBBB from the QRS shape) also asserts it.
- ``either``: either source suffices (OR).

Codes not in a table are ``model``. The rows of ``DEFAULT_TABLE`` were chosen by measuring the
options (``benchmarks/fusion_table.py``, figures and reasons in docs/fusion.md); rows the data set
cannot measure are fixed by a documented argument (same document).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

__all__ = ["FUSION_MODES", "FusionMode", "FusionTable", "DEFAULT_TABLE", "mode_of"]

FusionMode = Literal["model", "rule", "both", "gate", "either"]
FUSION_MODES: tuple[FusionMode, ...] = ("model", "rule", "both", "gate", "either")
FusionTable = Mapping[int, FusionMode]

DEFAULT_TABLE: FusionTable = MappingProxyType(
    {
        # Measured on ptbxl-sph's held-out split (benchmarks/fusion_table.py, docs/fusion.md).
        21: "rule",
        22: "rule",  # by definition; ptbxl-sph's bradycardia labels are incomplete (docs/fusion.md)
        23: "rule",
        30: "rule",
        60: "both",
        50: "rule",
        82: "rule",
        104: "gate",
        105: "model",
        106: "gate",
        # Not measurable on ptbxl-sph (no or too few labels, or amplitudes z-scored): argued.
        80: "rule",
        51: "rule",  # measured flutter waves (measurements.flutter); 1 label in ptbxl-sph, the model cannot learn it
        120: "rule",
        121: "rule",
        148: "both",
        346: "rule",
        347: "rule",
        308: "rule",
        310: "rule",
        340: "rule",
        341: "rule",
        342: "rule",
        125: "rule",
        142: "either",  # the model (shape, z-scored training data) or a voltage criterion (mV input only)
        145: "either",  # the model's ST deviation, or the J-point rule's ST elevation (mV input)
        363: "rule",  # elevation: only the J-point rule asserts it (modifies 145); no labels
    }
)


def mode_of(code: int, table: FusionTable) -> FusionMode:
    """The table's mode for ``code`` (``model`` when the table has no row for it)."""
    return table.get(int(code), "model")
