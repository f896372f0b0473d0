"""AHA_Code grammar and the code table."""

from __future__ import annotations

import numpy as np
import pytest

from model.labels import Label, multi_hot, parse_aha_codes


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("1", [1]),
        ("22;23", [22, 23]),
        ("30+310", [30, 310]),
        ("50+346;147", [50, 346, 147]),
        (" 21 ; 147+367 ", [21, 147, 367]),
        ("22;22", [22]),
        ("", []),
    ],
)
def test_parse_aha_codes(text: str, codes: list[int]) -> None:
    assert parse_aha_codes(text) == codes


def test_multi_hot_ignores_unknown_codes() -> None:
    labels = (Label(1, "Normal ECG", "A"), Label(310, "Frequent", "Modifier"))
    y = multi_hot([[1], [30, 310], [999]], labels)
    np.testing.assert_array_equal(y, [[1, 0], [0, 1], [0, 0]])
    assert labels[1].is_modifier and not labels[0].is_modifier


def test_public_api() -> None:
    import model

    assert set(model.__all__) == {"Label", "BatchPrediction", "Predictor", "parse_aha_codes"}
