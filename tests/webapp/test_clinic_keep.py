"""Keeping an upload's samples never fails the upload: a database that does not answer only loses
the tracing (logged without patient data)."""

from __future__ import annotations

import logging

from ecgstream.embedded import free_port
from storage import create_engine
from tests.webapp.conftest import cinc_recording
from webapp.keeping import keep_tracing


async def test_an_unreachable_database_loses_only_the_tracing(caplog) -> None:
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing_listens")
    rec = cinc_recording()
    rec.patient_ref = "PAT-CLEAR-0815"
    try:
        with caplog.at_level(logging.WARNING, logger="webapp.keeping"):
            await keep_tracing(engine, rec)  # returns instead of raising
    finally:
        await engine.dispose()
    (record,) = [r for r in caplog.records if r.name == "webapp.keeping"]
    assert record.getMessage() == "tracing not kept" and record.error == "DatabaseUnavailable"  # type: ignore[attr-defined]
    assert "PAT-CLEAR-0815" not in caplog.text
