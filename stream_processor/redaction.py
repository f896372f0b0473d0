"""What a dead letter may carry of the original message: never a patient reference in clear.

Dead letters are kept longer and read by more people than the recordings topic, so the original
bytes are protected before they are written (issue 10, finding 7):

- a message that decodes as a recordings event is re-encoded with the same schema version and its
  ``patient_ref`` replaced by ``hmac-sha256:<keyed hash>`` (the hash the database stores); everything
  else is byte-for-byte the original, so an operator can still decode and replay it;
- anything else (undecodable bytes, unknown schema versions, oversize messages; bytes that may hold a
  reference anywhere) is encrypted with AES-256-GCM under ``DEADLETTER_KEY``, value and headers
  together, so an operator with the key recovers them with ``decrypt_original``; without a key the
  bytes are dropped and the letter keeps their size and SHA-256.

The error text goes the same way: it may quote the bad input (``ce_type is '...'``), so for a
decodable original it is kept with the clear reference replaced, and for any other it travels inside
the encrypted blob (or is dropped) while the letter's message says only what happened and where.

If a redacted re-encoding still contains the clear reference (say, also in ``source``), it is
treated as undecodable. The encrypted blob is ``MAGIC || nonce (12 bytes) || ciphertext+tag``; the
associated data is the source position, so a blob cannot be passed off as another message's.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from dataclasses import dataclass

from fastavro import schemaless_writer

from core.errors import EcgstreamError
from schemas import registry
from schemas.codec import decode_event, schema_version_of
from schemas.pseudonym import patient_pseudonym
from schemas.recording_event import RECORDING_EVENT_TYPE
from stream_processor.messages import IncomingMessage

__all__ = [
    "ProtectedOriginal",
    "RecoveredOriginal",
    "OriginalProtection",
    "protect_original",
    "decrypt_original",
    "ENCRYPTED_MAGIC",
    "REDACTED_PREFIX",
]

ENCRYPTED_MAGIC = b"ECGSTREAM-DL-AESGCM-1:"
REDACTED_PREFIX = "hmac-sha256:"
NONCE_BYTES = 12


@dataclass(frozen=True)
class ProtectedOriginal:
    """The original value and headers as the dead letter may carry them, and its safe message."""

    value: bytes
    headers: list[tuple[str, bytes]]
    message: str


@dataclass(frozen=True)
class RecoveredOriginal:
    """What ``decrypt_original`` gives back: the original value, headers and the worker's error text."""

    value: bytes
    headers: list[tuple[str, bytes]]
    error: str


@dataclass(frozen=True)
class OriginalProtection:
    """Keys for protecting originals: the patient-reference HMAC secret and the optional AES key."""

    patient_hmac_secret: str
    deadletter_key: bytes | None = None
    max_original_bytes: int = 64 * 1024  # an oversize original is cut to this before encryption


def _redacted_recording(message: IncomingMessage, secret: str, error: str) -> tuple[bytes, str] | None:
    """The recordings event re-encoded without a clear ``patient_ref``; None when it does not decode."""
    try:
        version = schema_version_of(message.headers, RECORDING_EVENT_TYPE)
        record = decode_event(message.value, message.headers, RECORDING_EVENT_TYPE)
    except EcgstreamError:
        return None
    ref = record.get("patient_ref")
    if not ref:
        return message.value, error
    record["patient_ref"] = REDACTED_PREFIX + patient_pseudonym(ref, secret)
    buffer = io.BytesIO()
    try:
        schemaless_writer(buffer, registry.writer_schema(RECORDING_EVENT_TYPE, version), record)
    except Exception:  # noqa: BLE001 - a record the writer refuses is handled like undecodable bytes
        return None
    value = buffer.getvalue()
    clear = ref.encode("utf-8")
    if clear in value or any(clear in header for _, header in message.headers):
        return None
    return value, error.replace(ref, "[patient_ref]") + " [patient_ref replaced by its keyed hash]"


def _position(message: IncomingMessage) -> bytes:
    return message.position.encode("utf-8")


def _encrypt(message: IncomingMessage, value: bytes, error: str, key: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    plain = json.dumps({
        "value": base64.b64encode(value).decode("ascii"),
        "headers": [[k, base64.b64encode(v).decode("ascii")] for k, v in message.headers],
        "error": error,
    }).encode("utf-8")  # fmt: skip
    nonce = os.urandom(NONCE_BYTES)
    return ENCRYPTED_MAGIC + nonce + AESGCM(key).encrypt(nonce, plain, _position(message))


def decrypt_original(blob: bytes, key: bytes, position: str) -> RecoveredOriginal:
    """The original value, headers and error text of an encrypted dead letter (``position``: ``topic[p]@offset``).

    Raises ``cryptography.exceptions.InvalidTag`` for a wrong key, a wrong position or altered bytes.
    """
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not blob.startswith(ENCRYPTED_MAGIC):
        raise ValueError("not an encrypted dead-letter original")
    body = blob[len(ENCRYPTED_MAGIC) :]
    plain = json.loads(AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], position.encode("utf-8")))
    headers = [(str(k), base64.b64decode(v)) for k, v in plain["headers"]]
    return RecoveredOriginal(base64.b64decode(plain["value"]), headers, str(plain.get("error", "")))


def protect_original(
    message: IncomingMessage, protection: OriginalProtection, error: str, *, oversize: bool = False
) -> ProtectedOriginal:
    """What the dead letter of ``message`` (which failed with ``error``) carries (see the module doc).

    An ``oversize`` message is never decoded again; its first ``max_original_bytes`` are kept
    (encrypted) at most.
    """
    value = message.value
    size, digest = len(value), hashlib.sha256(value).hexdigest()
    if not oversize:
        redacted = _redacted_recording(message, protection.patient_hmac_secret, error)
        if redacted is not None:
            return ProtectedOriginal(redacted[0], list(message.headers), redacted[1])
    kept = value[: protection.max_original_bytes] if oversize else value
    cut = f"first {len(kept)} of " if len(kept) < size else ""
    if protection.deadletter_key is not None:
        blob = _encrypt(message, kept, error, protection.deadletter_key)
        text = f"original {size} bytes, sha256 {digest}; {cut}value, headers and error text encrypted with DEADLETTER_KEY"
        return ProtectedOriginal(blob, [], text)
    text = (
        f"original {size} bytes, sha256 {digest}; value, headers and error text dropped (they may hold a "
        "patient reference): set DEADLETTER_KEY to keep them encrypted"
    )
    return ProtectedOriginal(b"", [], text)

