"""Start-up refusal of the public development secret outside the loopback development stack.

The development default of ``PATIENT_HMAC_SECRET`` is in this public repository: anyone could
recompute the hashes of likely patient references from it. The embedded stack (``ecgstream up`` /
``demo`` with their own Tansu broker and SQLite file) may use it; as soon as an external broker or
database is configured (``KAFKA_BOOTSTRAP`` or ``DATABASE_URL``), the worker and the gateway refuse
to start without a real secret.
"""

from __future__ import annotations

import ipaddress

from ecgstream.config import DEV_HMAC_SECRET, Settings

__all__ = ["InsecureConfiguration", "require_patient_secret", "is_development_stack", "MIN_SECRET_CHARS"]

MIN_SECRET_CHARS = 16


class InsecureConfiguration(RuntimeError):
    """A setting that must be changed before this process may serve outside development."""


def _loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_development_stack(settings: Settings) -> bool:
    """True when neither an external broker nor an external database is configured.

    ``ecgstream up`` hands its children the embedded broker's and SQLite file's addresses with
    ``ECGSTREAM_EMBEDDED_STACK=true``; the flag only counts for a loopback broker and a SQLite file,
    so setting it on a real deployment does not switch the check off.
    """
    if not settings.kafka_bootstrap and not settings.database_url:
        return True
    if not settings.embedded_stack:
        return False
    hosts = [part.rsplit(":", 1)[0] for part in (settings.kafka_bootstrap or "").split(",") if part.strip()]
    return all(_loopback(host) for host in hosts) and settings.effective_database_url.startswith("sqlite")


def require_patient_secret(settings: Settings) -> None:
    """Raise ``InsecureConfiguration`` naming PATIENT_HMAC_SECRET when it is unusable here."""
    if is_development_stack(settings):
        return
    secret = settings.patient_hmac_secret
    if not secret or secret == DEV_HMAC_SECRET:
        raise InsecureConfiguration(
            "PATIENT_HMAC_SECRET is unset or the public development default, but an external broker or "
            "database is configured (KAFKA_BOOTSTRAP / DATABASE_URL): set PATIENT_HMAC_SECRET to a long "
            "random secret (e.g. `openssl rand -hex 32`) and keep it the same for every worker and gateway"
        )
    if len(secret) < MIN_SECRET_CHARS:
        raise InsecureConfiguration(
            f"PATIENT_HMAC_SECRET is shorter than {MIN_SECRET_CHARS} characters: use a long random secret "
            "(e.g. `openssl rand -hex 32`)"
        )
