"""The code tables: every LOINC code passes LOINC's check digit; MDC lead codes match the FHIR example."""

from __future__ import annotations

import pytest

from exports.codes import EKG_IMPRESSION, EKG_STUDY, MDC_LEAD_CODES, MEASUREMENT_CODES, loinc_check_digit
from schemas import STANDARD_LEADS


@pytest.mark.parametrize("code", sorted({m.loinc for m in MEASUREMENT_CODES} | {EKG_STUDY[0], EKG_IMPRESSION[0]}))
def test_every_loinc_code_has_a_valid_check_digit(code: str) -> None:
    number, check = code.split("-")
    assert loinc_check_digit(number) == int(check)


def test_the_check_digit_catches_the_near_miss_codes() -> None:
    # codes once proposed for QRS duration, QT, QTc, QRS axis, T axis: each fails its check digit
    for wrong in ("8633-2", "8634-0", "8636-5", "8632-4", "8638-3"):
        number, check = wrong.split("-")
        assert loinc_check_digit(number) != int(check), wrong


def test_mdc_lead_codes_cover_the_twelve_leads_as_in_the_fhir_example() -> None:
    assert set(MDC_LEAD_CODES) == set(STANDARD_LEADS)
    assert MDC_LEAD_CODES["I"][0] == "131329" and MDC_LEAD_CODES["II"][0] == "131330"
    assert MDC_LEAD_CODES["III"][0] == "131389" and MDC_LEAD_CODES["V6"][0] == "131336"
    assert len({code for code, _ in MDC_LEAD_CODES.values()}) == 12
