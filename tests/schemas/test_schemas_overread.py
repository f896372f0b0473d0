"""The overread event: round trip, headers, key, and refusal of other event types."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas import SchemaError, encode_diagnosis
from schemas.diagnosis_event import DiagnosisEvent
from schemas.headers import header_map
from schemas.overread_event import OverreadEvent, OverreadStatement, decode_overread, encode_overread

AT = datetime(2026, 11, 25, 14, 3, 7, 123456, tzinfo=UTC)


def test_overread_round_trip_keeps_every_field() -> None:
    event = OverreadEvent(
        "rec-1", "cae-1.0", 3, "edit",
        [OverreadStatement(50, "Atrial fibrillation"), OverreadStatement(346, "Rapid ventricular response", 50)],
        reader="dr.smith", at=AT, free_text="rate control\nadvised", reason="RVR missed", amends_version=1,
    )  # fmt: skip
    encoded = encode_overread(event)
    assert encoded.key == b"rec-1"
    headers = header_map(encoded.headers)
    assert headers["ce_type"] == "org.ecgstream.overread" and headers["ce_schemaversion"] == "1"
    back = decode_overread(encoded.value, encoded.headers)
    assert back == event and back.confirms
    rejection = OverreadEvent("rec-1", "cae-1.0", 4, "reject", [], reader="dr.smith", at=AT, reason="artefact")
    decoded = decode_overread(encode_overread(rejection).value, encode_overread(rejection).headers)
    assert decoded == rejection and not decoded.confirms and decoded.amends_version is None


def test_a_diagnosis_event_is_not_an_overread() -> None:
    diagnosis = encode_diagnosis(DiagnosisEvent("rec-1", "v", [], {}, diagnosed_at=AT))
    with pytest.raises(SchemaError):
        decode_overread(diagnosis.value, diagnosis.headers)
