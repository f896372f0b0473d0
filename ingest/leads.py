"""Lead-name normalisation and assembly of the 12 standard leads, deriving missing limb leads.

Einthoven/Goldberger relations used when a device stores only I, II and V1-V6 (8 leads):
III = II - I, aVR = -(I + II) / 2, aVL = I - II / 2, aVF = II - I / 2.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import numpy as np

from schemas.errors import InvalidRecording
from schemas.recording import STANDARD_LEADS

__all__ = ["normalise_lead_name", "assemble_leads"]

logger = logging.getLogger(__name__)

_ALIASES: dict[str, str] = {name.lower(): name for name in STANDARD_LEADS}
_ALIASES.update({"di": "I", "dii": "II", "diii": "III", "1": "I", "2": "II", "3": "III"})
# coded lead identifiers: SCP-ECG (DICOM CID 3001, scheme SCPECG) and ISO/IEEE 11073 MDC (scheme MDC)
_CODES: dict[str, str] = {}
for _index, _name in enumerate(("I", "II", "V1", "V2", "V3", "V4", "V5", "V6"), start=1):
    _CODES[f"5.6.3-9-{_index}"] = _CODES[f"2:{_index}"] = _name
for _index, _name in zip((61, 62, 63, 64), ("III", "aVR", "aVL", "aVF"), strict=True):
    _CODES[f"5.6.3-9-{_index}"] = _CODES[f"2:{_index}"] = _name
_PREFIX = re.compile(r"^(mdc_ecg_lead_|lead[\s_-]*|ecg[\s_-]*)", re.IGNORECASE)
_QUALIFIER = re.compile(r"\s*\(.*?\)\s*")  # "Lead I (Einthoven)", "Lead aVR (Goldberger)"


def normalise_lead_name(name: str) -> str | None:
    """The standard name of a lead label or code (``i``, ``Lead aVR``, ``MDC_ECG_LEAD_V1``, ``2:1``), else None."""
    raw = str(name).strip()
    if raw in _CODES:
        return _CODES[raw]
    text = _PREFIX.sub("", _QUALIFIER.sub("", raw)).strip().lower()
    return _ALIASES.get(text)


def assemble_leads(named: Mapping[str, np.ndarray]) -> np.ndarray:
    """(12, N) float32 in standard order from standard-named 1-D arrays, deriving missing limb leads.

    Raises ``InvalidRecording(reason="missing_leads")`` when a lead is missing and not derivable.
    """
    leads = {name: np.asarray(values, dtype=np.float64) for name, values in named.items()}
    if "I" not in leads and {"II", "III"} <= leads.keys():
        leads["I"] = leads["II"] - leads["III"]
    if "II" not in leads and {"I", "III"} <= leads.keys():
        leads["II"] = leads["I"] + leads["III"]
    if {"I", "II"} <= leads.keys():
        lead_i, lead_ii = leads["I"], leads["II"]
        derived = {
            "III": lambda: lead_ii - lead_i,
            "aVR": lambda: -(lead_i + lead_ii) / 2,
            "aVL": lambda: lead_i - lead_ii / 2,
            "aVF": lambda: lead_ii - lead_i / 2,
        }
        made = [name for name in derived if name not in leads]
        for name in made:
            leads[name] = derived[name]()
        if made:
            logger.debug("derived limb leads", extra={"leads": made})
    missing = [name for name in STANDARD_LEADS if name not in leads]
    if missing:
        raise InvalidRecording(f"missing leads: {', '.join(missing)}", reason="missing_leads")
    lengths = {leads[name].shape for name in STANDARD_LEADS}
    if len(lengths) != 1 or len(next(iter(lengths))) != 1:
        raise InvalidRecording(f"leads have different shapes: {sorted(lengths)}", reason="wrong_lead_count")
    return np.stack([leads[name] for name in STANDARD_LEADS]).astype(np.float32)
