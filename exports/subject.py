"""Who an export is about, and the waveform it may carry: plain inputs of the builders.

By default a patient is named only by the keyed hash the storage keeps
(``recordings.patient_ref_hash``, ``schemas.pseudonym.patient_pseudonym``): the receiver can link
one patient's ECGs but learns no identity. A clear identifier (and name) goes out only when the
caller passes one explicitly, e.g. for a confirmed chart export to an EHR that matches by MRN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from exports.codes import PSEUDONYM_SYSTEM

__all__ = ["PatientIdentity", "Waveform"]


@dataclass(frozen=True)
class PatientIdentity:
    """``pseudonym``: the keyed hash; or ``identifier`` (+ ``identifier_system``) given explicitly.

    ``family_name`` / ``given_name`` only accompany an explicit identifier. Identifiers and names are
    kept out of ``repr`` so that a logged object shows none of them.
    """

    pseudonym: str | None = field(default=None, repr=False)
    identifier: str | None = field(default=None, repr=False)
    identifier_system: str | None = None
    family_name: str | None = field(default=None, repr=False)
    given_name: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.identifier is None and (self.family_name or self.given_name):
            raise ValueError("a patient name goes out only with an explicit identifier")
        if self.identifier is not None and not self.identifier_system:
            raise ValueError("an explicit patient identifier needs its system (the assigning authority's URI)")

    @property
    def explicit(self) -> bool:
        """True when a clear identifier was given by the caller."""
        return self.identifier is not None

    @property
    def system_and_value(self) -> tuple[str, str] | None:
        """The identifier to send: the explicit one, else the pseudonym, else None."""
        if self.identifier is not None and self.identifier_system:
            return self.identifier_system, self.identifier
        if self.pseudonym:
            return PSEUDONYM_SYSTEM, self.pseudonym
        return None


@dataclass(frozen=True)
class Waveform:
    """Samples to export: ``signal`` (n_leads, n_samples) in mV at ``fs`` Hz, with the lead names."""

    signal: np.ndarray
    fs: float
    leads: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.signal.ndim != 2 or self.signal.shape[0] != len(self.leads):
            raise ValueError(f"waveform of shape {self.signal.shape} does not match {len(self.leads)} leads")
        if not math.isfinite(self.fs) or self.fs <= 0:
            raise ValueError(f"sampling rate {self.fs!r} is not a positive number")

    @property
    def n_values(self) -> int:
        return int(self.signal.shape[0] * self.signal.shape[1])

    def microvolts(self, lead: int) -> list[int | None]:
        """Lead ``lead`` as whole microvolts; None for a sample that is not a finite number."""
        values = np.asarray(self.signal[lead], dtype=np.float64) * 1000.0
        finite = np.isfinite(values)
        rounded = np.where(finite, np.rint(np.where(finite, values, 0.0)), 0.0).astype(np.int64)
        return [int(v) if ok else None for v, ok in zip(rounded.tolist(), finite.tolist(), strict=True)]
