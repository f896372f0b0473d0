"""Pseudonymisation of patient references: a keyed hash, so the database never holds them in clear."""

from __future__ import annotations

from schemas.pseudonym import patient_pseudonym

__all__ = ["hash_patient_ref"]


def hash_patient_ref(ref: str, secret: str) -> str:
    """HMAC-SHA256 of the UTF-8 reference under ``secret`` (see ``schemas.pseudonym``)."""
    return patient_pseudonym(ref, secret)
