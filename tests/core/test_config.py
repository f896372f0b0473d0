"""Settings: one table of environment variables, read once; children rebuild the same settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ENV_FIELDS, Settings, load_settings, settings_to_env


def test_defaults_run_the_embedded_stack():
    settings = load_settings({})
    assert settings == Settings()
    assert settings.embedded_broker
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")


def test_external_services_switch_with_two_variables():
    settings = load_settings(
        {"KAFKA_BOOTSTRAP": "kafka:9092", "DATABASE_URL": "postgresql+asyncpg://u@db/ecg"}
    )
    assert not settings.embedded_broker
    assert settings.kafka_bootstrap == "kafka:9092"
    assert settings.effective_database_url == "postgresql+asyncpg://u@db/ecg"


@pytest.mark.parametrize(
    ("name", "raw", "field", "expected"),
    [("BATCH_MAX", "7", "batch_max", 7), ("BATCH_WAIT", "0.25", "batch_wait", 0.25),
     ("STORE_SIGNAL", "TRUE", "store_signal", True), ("STORE_SIGNAL", "0", "store_signal", False),
     ("LOG_LEVEL", "debug", "log_level", "DEBUG"), ("MODEL_PATH", "/m.pt", "model_path", Path("/m.pt")),
     ("SHADOW_MODEL_PATH", "/s.pt", "shadow_model_path", Path("/s.pt")), ("SHADOW_MODEL_PATH", "", "shadow_model_path", None)],
)  # fmt: skip
def test_values_are_parsed_to_their_types(name, raw, field, expected):
    assert getattr(load_settings({name: raw}), field) == expected


def test_child_processes_rebuild_identical_settings(tmp_path):
    settings = Settings(kafka_bootstrap="h:1", home=tmp_path, batch_max=3, store_signal=True,
                        max_recording_bytes=600_000, broker_session_timeout=30.0)  # fmt: skip
    assert load_settings(settings_to_env(settings)) == settings


def test_every_settings_field_has_an_environment_variable():
    fields = set(Settings.__dataclass_fields__)
    assert fields == set(ENV_FIELDS.values())


def test_site_timezone_is_an_iana_zone_checked_at_load() -> None:
    from zoneinfo import ZoneInfo

    from core.config import Settings, load_settings

    assert Settings().site_zone == ZoneInfo("UTC")
    assert load_settings({"SITE_TIMEZONE": "Europe/Berlin"}).site_zone == ZoneInfo("Europe/Berlin")
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", ""):
        with pytest.raises(ValueError, match="SITE_TIMEZONE"):
            load_settings({"SITE_TIMEZONE": bad})
