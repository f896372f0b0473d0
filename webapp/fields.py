"""The form fields that travel with an upload: parsed and range-checked, never logged.

Ranges are deliberately wide (they catch typos and unit mix-ups such as metres for centimetres,
not unusual patients): age 0-120 years, height 30-250 cm, weight 1-350 kg, sex M or F. The optional
patient reference and name (at most 128 characters each) are never logged; the reference is hashed,
and both are kept only encrypted for the chart report (``storage.identity``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from schemas.identifiers import DEVICE_ID_RULE, device_id_problem
from webapp.errors import FieldError

__all__ = ["UploadFields", "parse_fields", "AGE_RANGE", "HEIGHT_RANGE_CM", "WEIGHT_RANGE_KG"]

AGE_RANGE = (0, 120)
HEIGHT_RANGE_CM = (30.0, 250.0)
WEIGHT_RANGE_KG = (1.0, 350.0)
MAX_TEXT = 128
_SEX = {"m": "M", "male": "M", "f": "F", "female": "F"}


@dataclass(frozen=True)
class UploadFields:
    age: int
    sex: Literal["M", "F"]
    height_cm: float
    weight_kg: float
    patient_ref: str | None = None  # clear text: hashed by storage, never logged
    device_id: str | None = None
    patient_name: str | None = None  # clear text: kept only encrypted, for the chart report (storage.identity)

    def __repr__(self) -> str:  # keep demographics and the patient reference out of any log line
        return "UploadFields(<redacted>)"


def _text(form: Mapping[str, object], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _number(form: Mapping[str, object], name: str, label: str, low: float, high: float, unit: str) -> float:
    text = _text(form, name).replace(",", ".")
    if not text:
        raise FieldError(name, f"{label} is required")
    try:
        value = float(text)
    except ValueError:
        raise FieldError(name, f"{label} must be a number, got {text[:20]!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise FieldError(name, f"{label} must be between {low:g} and {high:g} {unit}, got {text[:20]}")
    return value


def _optional(form: Mapping[str, object], name: str, label: str) -> str | None:
    text = _text(form, name)
    if not text:
        return None
    if len(text) > MAX_TEXT:
        raise FieldError(name, f"{label} is longer than {MAX_TEXT} characters")
    return text


def parse_fields(form: Mapping[str, object]) -> UploadFields:
    """The checked fields of an upload form; raises ``FieldError`` (422) naming the first bad field."""
    age = _number(form, "age", "age", *AGE_RANGE, "years")
    if age != int(age):
        raise FieldError("age", "age must be a whole number of years")
    sex = _SEX.get(_text(form, "sex").lower())
    if sex is None:
        raise FieldError("sex", "sex must be M (male) or F (female)")
    height = _number(form, "height_cm", "height", *HEIGHT_RANGE_CM, "cm")
    weight = _number(form, "weight_kg", "weight", *WEIGHT_RANGE_KG, "kg")
    device_id = _text(form, "device_id") or None
    if device_id is not None and device_id_problem(device_id) is not None:
        raise FieldError("device_id", f"device id may use {DEVICE_ID_RULE}")
    return UploadFields(
        age=int(age),
        sex=sex,  # type: ignore[arg-type]
        height_cm=height,
        weight_kg=weight,
        patient_ref=_optional(form, "patient_ref", "patient reference"),
        device_id=device_id,
        patient_name=_optional(form, "patient_name", "patient name"),
    )
