"""The measurement package's public names (a change here is a contract change for quality, rules,
fusion and the worker)."""

from __future__ import annotations

import measurements


def test_public_names() -> None:
    assert sorted(measurements.__all__) == sorted(
        [
            "measure",
            "measure_batch",
            "BEAT_CLASSES",
            "BeatClass",
            "Beats",
            "LeadQuality",
            "Measurements",
            "QualityReport",
            "QualityVerdict",
            "RuleStatement",
        ]
    )
    for name in measurements.__all__:
        assert hasattr(measurements, name), name


def test_measurements_package_imports_no_io_frameworks() -> None:
    import subprocess
    import sys

    code = (
        "import sys, measurements, measurements.measure; "
        "bad = [m for m in ('faust', 'sqlalchemy', 'aiokafka', 'httpx', 'fastapi') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
