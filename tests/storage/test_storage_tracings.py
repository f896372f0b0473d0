"""The gateway's kept samples (``storage.tracings``) on the real Postgres and on SQLite."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import inspect

from storage.tracings import load_tracing, store_tracing
from tests.webapp.conftest import cinc_recording


async def test_samples_round_trip_as_float16_within_a_microvolt_scale(engine) -> None:
    rec = cinc_recording()
    await store_tracing(engine, "r-1", rec.signal, rec.fs, tuple(rec.leads))
    kept = await load_tracing(engine, "r-1")
    assert kept is not None and kept.leads == tuple(rec.leads) and kept.fs == rec.fs
    assert kept.signal.shape == rec.signal.shape and kept.signal.dtype == np.float32
    # float16 keeps 11 significant bits: < 0.05 % of the value, far below the 0.1-mm pen at 10 mm/mV
    assert np.allclose(kept.signal, rec.signal, rtol=1e-3, atol=1e-3)
    assert await load_tracing(engine, "missing") is None


async def test_only_samples_are_kept_no_patient_columns(engine) -> None:
    async with engine.connect() as conn:
        columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("tracings")})
    assert columns == {"recording_id", "sampling_rate_hz", "leads", "n_samples", "samples_f16", "created_at"}


async def test_a_signal_that_does_not_match_its_leads_is_refused(engine) -> None:
    with pytest.raises(ValueError, match="does not match"):
        await store_tracing(engine, "r-2", np.zeros((11, 100), np.float32), 500.0, tuple("ABCDEFGHIJKL"))
