"""The patient identifier and name as entered at upload, kept encrypted for the chart report only.

The project never stores a patient reference in clear (``recordings.patient_ref_hash`` is a keyed
hash), yet a report fit for a chart must name the patient. So the gateway keeps, per uploaded
recording, the reference and the name as one AES-256-GCM ciphertext (``patient_identities``):

- key: HKDF-SHA256 of ``PATIENT_HMAC_SECRET`` with its own purpose label (``KEY_INFO``), so the
  existing secret is the only key material to manage and the hash key is never used to encrypt;
- nonce: 12 random bytes per row; associated data: the recording id, so a ciphertext copied to
  another recording's row does not decrypt;
- plaintext: ``{"patient_ref": ..., "patient_name": ...}`` as JSON.

Only the PDF report decrypts it (``load_identity``); no JSON answer, log line, topic or URL carries
it. Rotating ``PATIENT_HMAC_SECRET`` makes earlier rows unreadable (``load_identity`` then says so
with ``IdentityUnreadable``): the report prints "not available" rather than a wrong name.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import LargeBinary, String, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from storage.errors import StorageError, translate_errors
from storage.models import Base, UtcDateTime

__all__ = [
    "PatientIdentityRow", "StoredIdentity", "IdentityUnreadable", "KEY_INFO", "encrypt_identity", "decrypt_identity",
    "store_identity", "load_identity",
]  # fmt: skip

KEY_INFO = b"ecgstream patient identity encryption v1"
FORMAT = b"\x01"  # format byte of the ciphertext: 1 = AES-256-GCM, 12-byte nonce
NONCE_BYTES = 12


class PatientIdentityRow(Base):
    """One uploaded recording's encrypted patient identifier and name."""

    __tablename__ = "patient_identities"

    recording_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.current_timestamp())


@dataclass(frozen=True)
class StoredIdentity:
    """The identity as entered; both kept out of ``repr`` (so out of any log line)."""

    patient_ref: str | None = field(default=None, repr=False)
    patient_name: str | None = field(default=None, repr=False)


class IdentityUnreadable(StorageError):
    """The stored identity does not decrypt (the secret changed, or the row was altered)."""

    reason = "identity_unreadable"


def _key(secret: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO).derive(secret.encode("utf-8"))


def encrypt_identity(identity: StoredIdentity, recording_id: str, secret: str) -> bytes:
    """The row's ciphertext: format byte, nonce, AES-GCM(JSON) bound to ``recording_id``."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    plain = json.dumps({"patient_ref": identity.patient_ref, "patient_name": identity.patient_name}).encode("utf-8")
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT + nonce + AESGCM(_key(secret)).encrypt(nonce, plain, recording_id.encode("utf-8"))


def decrypt_identity(ciphertext: bytes, recording_id: str, secret: str) -> StoredIdentity:
    """The identity of ``ciphertext``; ``IdentityUnreadable`` for a wrong key, id or altered bytes."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not ciphertext.startswith(FORMAT) or len(ciphertext) < 1 + NONCE_BYTES + 16:
        raise IdentityUnreadable("the stored patient identity has an unknown format")
    nonce, body = ciphertext[1 : 1 + NONCE_BYTES], ciphertext[1 + NONCE_BYTES :]
    try:
        plain = json.loads(AESGCM(_key(secret)).decrypt(nonce, body, recording_id.encode("utf-8")))
    except InvalidTag:
        raise IdentityUnreadable("the stored patient identity does not decrypt with PATIENT_HMAC_SECRET") from None
    return StoredIdentity(plain.get("patient_ref"), plain.get("patient_name"))


async def store_identity(engine: AsyncEngine, recording_id: str, identity: StoredIdentity, secret: str) -> None:
    """Keep ``identity`` encrypted for ``recording_id`` (nothing when both parts are empty)."""
    if not identity.patient_ref and not identity.patient_name:
        return
    values = {"recording_id": recording_id, "ciphertext": encrypt_identity(identity, recording_id, secret)}
    with translate_errors("store_identity"):
        async with engine.begin() as conn:
            await conn.execute(insert(PatientIdentityRow).values(**values))


async def load_identity(engine: AsyncEngine, recording_id: str, secret: str) -> StoredIdentity | None:
    """The identity entered with ``recording_id``, None when none was entered; ``IdentityUnreadable``."""
    statement = select(PatientIdentityRow.ciphertext).where(PatientIdentityRow.recording_id == recording_id)
    with translate_errors("load_identity"):
        async with engine.connect() as conn:
            ciphertext = (await conn.execute(statement)).scalar_one_or_none()
    return None if ciphertext is None else decrypt_identity(bytes(ciphertext), recording_id, secret)
