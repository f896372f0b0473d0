"""Helpers shared by the end-to-end and fault tests: settings for an isolated pipeline, publishing, reading."""

from __future__ import annotations

import asyncio
import re
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from core.config import Settings
from schemas import Recording

TEST_PATIENT_SECRET = "ecgstream-tests-only-patient-secret"


def isolated_settings(bootstrap: str, database_url: str, home: Path, suffix: str, **overrides: object) -> Settings:
    """Settings whose topics and consumer group belong to one test only."""
    settings = Settings(
        kafka_bootstrap=bootstrap,
        database_url=database_url,
        home=home,
        recordings_topic=f"recordings-{suffix}",
        diagnoses_topic=f"diagnoses-{suffix}",
        deadletter_topic=f"deadletter-{suffix}",
        worker_group=f"workers-{suffix}",
        batch_wait=0.2,
        torch_threads=1,
        patient_hmac_secret=TEST_PATIENT_SECRET,  # an external broker/database refuses the development default
    )
    return settings.with_overrides(**overrides)


async def publish_all(bootstrap: str, topic: str, recordings: Sequence[Recording]) -> None:
    from ingest import Publisher

    async with Publisher(bootstrap, topic, source="ecgstream-tests") as publisher:
        for recording in recordings:
            await publisher.publish(recording)


def scrape(url: str) -> str:
    return urllib.request.urlopen(url, timeout=5).read().decode()


def metric_value(text: str, name: str, labels: str = "") -> float:
    """Value of one sample in Prometheus text format (0.0 if absent)."""
    pattern = re.escape(name + (f"{{{labels}}}" if labels else "")) + r" ([0-9.eE+-]+)$"
    for line in text.splitlines():
        match = re.match(pattern, line)
        if match:
            return float(match.group(1))
    return 0.0


def db_counts(database_url: str) -> dict[str, int]:
    from storage import create_engine, diagnosis_counts_by_recording

    async def read() -> dict[str, int]:
        engine = create_engine(database_url)
        try:
            return await diagnosis_counts_by_recording(engine)
        finally:
            await engine.dispose()

    return asyncio.run(read())
