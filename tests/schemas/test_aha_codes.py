"""The one AHA statement table (``schemas.aha_codes``) is SPH's ``code.csv`` and names fusion's statements."""

from __future__ import annotations

import csv

from interpretation.fusion import sph_descriptions
from schemas.aha_codes import SPH_CODES
from tests.conftest import shared_data_dir


def test_the_table_is_44_statements_and_15_modifiers_with_unique_codes() -> None:
    codes = [code for _, code, _ in SPH_CODES]
    assert len(codes) == len(set(codes)) == 59
    assert sum(category == "Modifier" for category, _, _ in SPH_CODES) == 15
    assert all((category == "Modifier") == (code >= 300) for category, code, _ in SPH_CODES)


def test_fusion_names_statements_from_the_table() -> None:
    assert dict(sph_descriptions()) == {code: text for _, code, text in SPH_CODES}


def test_the_table_equals_the_data_sets_code_csv() -> None:
    with open(shared_data_dir("ptbxl-sph") / "code.csv", newline="", encoding="utf-8") as handle:
        rows = [
            (r["Category"].strip(), int(r["Code"]), r["Description"].strip()) for r in csv.DictReader(handle)
        ]
    assert tuple(rows) == SPH_CODES
