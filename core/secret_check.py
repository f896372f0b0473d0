"""Start-up refusal of the public development secret outside the loopback development stack.

The development default of ``PATIENT_HMAC_SECRET`` is in this public repository: anyone could
recompute the hashes of likely patient references from it. The embedded stack (``ecgstream up`` /
``demo`` with their own Tansu broker and SQLite file) may use it; as soon as an external broker or
database is configured (``KAFKA_BOOTSTRAP`` or ``DATABASE_URL``), the worker, the gateway and
``ecgstream publish`` (its message keys are keyed hashes of the patient reference) refuse to start
without a real secret: at least ``MIN_SECRET_CHARS`` characters, ``MIN_DISTINCT_CHARS`` of them
distinct (16 identical characters are not a secret), no spaces around it (a copy-paste slip that
makes one service hash differently from another), and not the development default in any disguise.
"""

from __future__ import annotations

import ipaddress

from core.config import DEV_HMAC_SECRET, ConfigError, Settings

__all__ = [
    "InsecureConfiguration", "require_patient_secret", "is_development_stack", "weak_secret_reason",
    "MIN_SECRET_CHARS", "MIN_DISTINCT_CHARS",
]  # fmt: skip

MIN_SECRET_CHARS = 16
MIN_DISTINCT_CHARS = 8
_HOW = "use a long random secret (e.g. `openssl rand -hex 32`), the same for every worker, gateway and publisher"


class InsecureConfiguration(ConfigError):
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


def weak_secret_reason(secret: str | None) -> str | None:
    """Why ``secret`` is not a usable PATIENT_HMAC_SECRET, or None when it is."""
    if not secret or secret.strip().lower() == DEV_HMAC_SECRET.lower():
        return "is unset or the public development default"
    if secret != secret.strip():
        return "has spaces or line breaks around it"
    if len(secret) < MIN_SECRET_CHARS:
        return f"is shorter than {MIN_SECRET_CHARS} characters"
    if len(set(secret)) < MIN_DISTINCT_CHARS:
        return f"has fewer than {MIN_DISTINCT_CHARS} distinct characters"
    return None


def require_patient_secret(settings: Settings) -> None:
    """Raise ``InsecureConfiguration`` naming PATIENT_HMAC_SECRET when it is unusable here."""
    if is_development_stack(settings):
        return
    reason = weak_secret_reason(settings.patient_hmac_secret)
    if reason is not None:
        raise InsecureConfiguration(
            f"PATIENT_HMAC_SECRET {reason}, but an external broker or database is configured "
            f"(KAFKA_BOOTSTRAP / DATABASE_URL): {_HOW}"
        )
