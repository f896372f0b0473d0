"""The overread body checks and the report's wording, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from interpretation.fusion import sph_descriptions
from webapp.errors import FieldError
from webapp.overread_input import confirmed_statements, parse_overread
from webapp.report_text import (
    comparison_line,
    confirmation_line,
    format_time,
    interpretation_lines,
    measurement_block,
    speed_gain_filter,
)

CODES = sph_descriptions()


def test_an_edit_is_checked_against_code_csv_and_the_sph_grammar() -> None:
    wanted = parse_overread({"action": "edit", "statements": [{"code": 30}, {"code": 310, "modifies": 30}],
                             "free_text": " frequent APCs \x00", "base_version": 2}, CODES)  # fmt: skip
    assert wanted.statements == [
        {"code": 30, "description": "Atrial premature complex(es)", "modifies": None, "source": "physician"},
        {"code": 310, "description": "Frequent", "modifies": 30, "source": "physician"},
    ]
    assert wanted.free_text == "frequent APCs" and wanted.base_version == 2 and wanted.reason is None
    assert parse_overread({"action": "edit", "statements": [], "free_text": "see text"}, CODES).statements == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "action"),
        ({"action": "edit"}, "statements"),
        ({"action": "edit", "statements": "50"}, "statements"),
        ({"action": "edit", "statements": [{"code": True}]}, "statements"),
        ({"action": "edit", "statements": [{"code": 50, "name": "x"}]}, "statements"),
        ({"action": "edit", "statements": [{"code": 50}, {"code": 50}]}, "statements"),
        ({"action": "edit", "statements": [{"code": 50, "modifies": 30}]}, "statements"),
        ({"action": "edit", "statements": [{"code": 310, "modifies": 30}]}, "statements"),
        ({"action": "edit", "statements": [{"code": 1}, {"code": 310, "modifies": 1}]}, "statements"),
        ({"action": "edit", "statements": [{"code": 50}] * 61}, "statements"),
        ({"action": "confirm", "free_text": "x" * 2001}, "free_text"),
        ({"action": "confirm", "free_text": 5}, "free_text"),
        ({"action": "reject", "reason": "   "}, "reason"),
        ({"action": "confirm", "base_version": -1}, "base_version"),
    ],
)
def test_bad_bodies_name_their_field(body: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(FieldError) as caught:
        parse_overread(body, CODES)
    assert caught.value.details["field"] == field


def test_a_confirmation_keeps_the_computer_statements() -> None:
    stored = [{"code": 50, "description": "Atrial fibrillation", "probability": 0.9, "modifies": None},
              {"code": 346, "description": "Rapid ventricular response", "probability": None, "modifies": 50}]  # fmt: skip
    assert confirmed_statements(stored) == [
        {"code": 50, "description": "Atrial fibrillation", "modifies": None, "source": "physician"},
        {"code": 346, "description": "Rapid ventricular response", "modifies": 50, "source": "physician"},
    ]


def test_report_wording() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    summer = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert format_time(summer, berlin) == "2026-07-01 12:00:00 CEST (Europe/Berlin)"
    assert format_time(summer, ZoneInfo("UTC")) == "2026-07-01 10:00:00 UTC"
    assert format_time(None, berlin) == "-"
    block = dict(measurement_block({"heart_rate_bpm": 61.6, "qt_ms": 400.0, "qtc_bazett_ms": 402.0,
                                    "p_axis_deg": 50.0, "qrs_axis_deg": -30.0, "t_axis_deg": float("nan")}))  # fmt: skip
    assert block == {"Vent. rate": "62 bpm", "Atrial rate": "- bpm", "PR interval": "- ms", "QRS duration": "- ms",
                     "QT/QTcB": "400/402 ms", "P-R-T axes": "50 -30 - deg"}  # fmt: skip
    lines = interpretation_lines([
        {"code": 30, "description": "Atrial premature complex(es)"},
        {"code": 142, "description": "Left ventricular hypertrophy", "certainty": "possible"},
        {"code": 310, "description": "Frequent", "modifies": 30},
        {"code": 346, "description": "Rapid ventricular response", "modifies": None},
    ])  # fmt: skip
    assert lines == ["Atrial premature complex(es), frequent", "Possible left ventricular hypertrophy",
                     "Rapid ventricular response"]  # fmt: skip
    assert confirmation_line(None, None, None, berlin) == "Unconfirmed"
    assert confirmation_line("edit", "dr", summer, berlin) == "Confirmed by dr at 2026-07-01 12:00:00 CEST (Europe/Berlin)"
    assert confirmation_line("reject", "dr", summer, berlin).startswith("Rejected by dr at")
    same = {"statements": [{"code": 1, "description": "Normal ECG"}], "measurements": {"heart_rate_bpm": 70.0},
            "taken_at": summer}  # fmt: skip
    assert comparison_line(same, same, berlin).endswith(": no significant change.")
    assert comparison_line(None, same, berlin) == "No earlier ECG of this patient to compare with."
    assert speed_gain_filter("0.5-150 Hz", 5.0) == "0.5-150 Hz, 25 mm/s, 5 mm/mV"
    assert speed_gain_filter(None, 10.0) == "25 mm/s, 10 mm/mV"
