"""How sure a final statement is: ``definite`` or ``possible``, as clinical programs qualify weak
statements ("possible", "consider").

A statement is definite when a measurement rule decided it or agrees with it (provenance
``measurement`` or ``both``), or when the model alone gives it a calibrated probability of at least
``CONFIDENT_PROBABILITY`` (more likely than not), ``HIGH_STAKES_PROBABILITY`` for the statements whose
false call does most harm (infarction, high-grade AV block, ST deviation, pre-excitation). Otherwise
it is possible: shown, qualified, and never the headline or a critical finding. Model statements on a
recording with unreadable leads left out are possible too: the network saw those leads.
"""

from __future__ import annotations

from typing import Literal

from interpretation.fusion import NORMAL_CODE, FusedStatement

__all__ = ["CONFIDENT_PROBABILITY", "HIGH_STAKES", "HIGH_STAKES_PROBABILITY", "Certainty", "certainty_of"]

Certainty = Literal["definite", "possible"]
CONFIDENT_PROBABILITY = 0.5
HIGH_STAKES_PROBABILITY = 0.7
HIGH_STAKES = frozenset({160, 161, 165, 166, 84, 85, 87, 88, 108, 145, 146})


def certainty_of(statement: FusedStatement, *, leads_left_out: bool = False, measured: bool = False) -> Certainty:
    """``definite`` or ``possible`` by the rules in the module docstring. ``measured``: the statement
    passed the consistency table against real measurements (``interpretation.consistency``), which
    for "Normal ECG" (1) checks every measurement it rests on."""
    if statement.provenance in ("measurement", "both") or (measured and statement.code == NORMAL_CODE):
        return "definite"
    level = HIGH_STAKES_PROBABILITY if statement.code in HIGH_STAKES else CONFIDENT_PROBABILITY
    p = statement.probability
    if p is None or p < level or leads_left_out:
        return "possible"
    return "definite"
