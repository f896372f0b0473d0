"""The fusion table: for each AHA statement, which source decides it.

Modes (``FusionMode``):

- ``model``: the model decides (probability >= its threshold); a rule statement for the same code
  is attached as evidence (this is how *support* rules such as voltage criteria for 142 are used).
- ``rule``: the measurement rule decides; the model's probability is reported but not used.
- ``both``: both must say yes (AND).
- ``gate``: the model decides, but only where the measured requirement holds (a RuleStatement
  with ``requirement=True``, e.g. QRS >= 120 ms for 104/106); without it the model is overruled.
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
        # Rate and rhythm.
        21: "rule",
        22: "rule",
        23: "model",
        50: "model",
        346: "rule",
        347: "rule",
        # Premature complexes and their modifiers.
        30: "model",
        60: "model",
        308: "rule",
        310: "rule",
        340: "rule",
        341: "rule",
        342: "rule",
        # Intervals and axis.
        80: "rule",
        82: "model",
        120: "rule",
        121: "rule",
        148: "model",
        # Conduction: QRS width gates the model.
        104: "gate",
        105: "gate",
        106: "gate",
        # Voltage: from mV measurements only.
        125: "rule",
        142: "model",
    }
)


def mode_of(code: int, table: FusionTable) -> FusionMode:
    """The table's mode for ``code`` (``model`` when the table has no row for it)."""
    return table.get(int(code), "model")
