"""Finding 13: every dead-letter reason the worker's code can emit is a row of the policy table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.errors import EcgstreamError
from schemas.errors import InvalidRecording, SchemaError
from stream_processor import policy
from stream_processor.policy import DEAD_LETTER_REASONS, dead_letter_reason

ROOT = Path(__file__).resolve().parents[2]
# The packages whose errors reach the worker's dead letters: the contract and the worker itself.
SCANNED = [ROOT / "schemas", ROOT / "stream_processor"]
# Outside the worker's dead-letter path: the FHIR/HL7 exporter (its own consumer, skip reasons are
# metric labels) and the offline replay command (a recording it cannot rebuild is only counted).
NOT_THE_WORKER = [ROOT / "stream_processor" / "export", ROOT / "stream_processor" / "replay.py"]
_PATTERNS = [
    re.compile(r"""\breason\s*=\s*["']([a-z_]+)["']"""),  # raise X(..., reason="...") / class attribute
    re.compile(r"""\b_fail\(\s*["']([a-z_]+)["']"""),  # schemas.validation's helper
]
# Module-level reason constants count only in the policy module (other constants, such as the
# reason of an unreadable-quality diagnosis event, are not dead-letter reasons).
_POLICY_CONSTANT = re.compile(r"""^[A-Z_]+\s*=\s*["']([a-z_]+)["']""", re.MULTILINE)


def _emitted_reasons() -> set[str]:
    found: set[str] = set()
    for folder in SCANNED:
        for path in folder.rglob("*.py"):
            if any(path == skip or skip in path.parents for skip in NOT_THE_WORKER):
                continue
            text = path.read_text()
            for pattern in _PATTERNS:
                found.update(pattern.findall(text))
            if path.name == "policy.py":
                found.update(_POLICY_CONSTANT.findall(text))
    return found


def test_the_scan_finds_the_reasons_it_must():
    reasons = _emitted_reasons()
    assert {"bad_headers", "wrong_event_type", "undecodable", "flat_signal", "inference_error"} <= reasons


def test_every_reason_the_code_emits_is_in_the_policy_table():
    doc = policy.__doc__ or ""
    missing_from_set = _emitted_reasons() - DEAD_LETTER_REASONS
    missing_from_table = {reason for reason in DEAD_LETTER_REASONS if f"``{reason}``" not in doc}
    assert not missing_from_set, f"reasons raised but absent from DEAD_LETTER_REASONS: {missing_from_set}"
    assert not missing_from_table, f"reasons without a row in the policy table: {missing_from_table}"


@pytest.mark.parametrize(
    ("error", "reason"),
    [(SchemaError("x", reason="bad_headers"), "bad_headers"),
     (SchemaError("x", reason="wrong_event_type"), "wrong_event_type"),
     (SchemaError("x", reason="made_up"), "undecodable"),
     (InvalidRecording("x", reason="made_up"), "invalid_recording"),
     (EcgstreamError("x"), "undecodable")],
)  # fmt: skip
def test_dead_letter_reason_is_always_a_table_reason(error, reason):
    assert dead_letter_reason(error) == reason
    assert reason in DEAD_LETTER_REASONS
