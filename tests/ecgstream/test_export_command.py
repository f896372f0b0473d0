"""``ecgstream export`` refuses to start without a broker, with a plain message (exit 2).

The exporter's work is tested end to end in tests/stream_processor/test_export_service.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecgstream.cli import main


def test_without_a_broker_export_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("ECGSTREAM_HOME", str(tmp_path))  # no running `ecgstream up` recorded there
    assert main(["export"]) == 2
    err = capsys.readouterr().err
    assert "no Kafka broker" in err and "KAFKA_BOOTSTRAP" in err
