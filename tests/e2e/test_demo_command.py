"""The README's main command: `ecgstream demo` on the embedded default (Tansu + SQLite file, no
secrets configured) diagnoses every generated recording and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_demo_diagnoses_every_recording_on_the_embedded_default(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items()
           if key not in {"KAFKA_BOOTSTRAP", "DATABASE_URL", "PATIENT_HMAC_SECRET"}}  # fmt: skip
    env.update(ECGSTREAM_HOME=str(tmp_path / "home"), METRICS_PORT="0")
    done = subprocess.run([sys.executable, "-m", "ecgstream.cli", "demo", "--records", "3"], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "3/3 diagnosed" in output, output[-3000:]
