"""Pseudonyms of patient references: HMAC-SHA256 under a secret, never a plain (brute-forceable) hash.

One function serves the Kafka message key, the database column and dead-letter redaction, so the
same patient has the same pseudonym everywhere and the clear reference appears nowhere.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["patient_pseudonym"]


def patient_pseudonym(ref: str, secret: str) -> str:
    """HMAC-SHA256 of the UTF-8 reference under ``secret``, as 64 lowercase hex characters.

    The same reference and secret always give the same hash (recordings of one patient can be
    linked); without the secret the hash cannot be reversed by trying likely references. The
    reference is hashed exactly as given (no trimming or case folding).
    """
    if not secret:
        raise ValueError("patient_hmac_secret must not be empty")
    return hmac.new(secret.encode("utf-8"), ref.encode("utf-8"), hashlib.sha256).hexdigest()
