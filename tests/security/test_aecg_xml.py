"""Finding 10: aECG documents with a DTD, entities or external references are refused in any encoding.

Before the fix the reader searched the raw bytes for ``<!DOCTYPE``: UTF-16 hides it (each character
is two bytes), and the internal entity below was expanded into the patient reference.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.detect import read_recording
from ingest.limits import FORBIDDEN_CONTENT
from ingest.writers import write_aecg
from schemas.errors import InvalidRecording
from tests.faults.messages import synthetic_recording

PATIENT = "PATIENT-0042"
INTERNAL_ENTITY = '<!DOCTYPE AnnotatedECG [<!ENTITY who "INJECTED">]>'
EXTERNAL_ENTITY = '<!DOCTYPE AnnotatedECG [<!ENTITY who SYSTEM "file:///etc/passwd">]>'
BILLION_LAUGHS = '<!DOCTYPE AnnotatedECG [<!ENTITY a "aaaaaaaaaa"><!ENTITY who "&a;&a;&a;&a;&a;&a;&a;&a;">]>'


def _document(tmp_path: Path) -> str:
    """A valid aECG (the project's writer) as text without its XML declaration."""
    rec = synthetic_recording(11)
    rec.patient_ref = PATIENT
    path = write_aecg(rec, tmp_path / "plain.xml")
    text = path.read_text(encoding="utf-8")
    return text.split("?>", 1)[1].lstrip()


def _hostile(tmp_path: Path, doctype: str, encoding: str, bom: bool) -> Path:
    body = _document(tmp_path).replace(PATIENT, "&who;")
    declaration = f'<?xml version="1.0" encoding="{"UTF-16" if "16" in encoding else "UTF-8"}"?>'
    data = (declaration + doctype + body).encode(encoding)
    if bom:
        data = {"utf-16-le": b"\xff\xfe", "utf-8": b"\xef\xbb\xbf"}[encoding] + data
    path = tmp_path / "hostile.xml"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("doctype", "encoding", "bom"),
    [(INTERNAL_ENTITY, "utf-16-le", False), (INTERNAL_ENTITY, "utf-16-le", True),
     (INTERNAL_ENTITY, "utf-8", False), (INTERNAL_ENTITY, "utf-8", True),
     (EXTERNAL_ENTITY, "utf-16-le", False), (EXTERNAL_ENTITY, "utf-8", False),
     (BILLION_LAUGHS, "utf-16-le", False)],
    ids=["utf16le-nobom", "utf16-bom", "utf8", "utf8-bom", "external-utf16le", "external-utf8", "laughs-utf16le"],
)  # fmt: skip
def test_dtd_and_entities_are_refused_in_every_encoding(tmp_path, doctype, encoding, bom):
    path = _hostile(tmp_path, doctype, encoding, bom)
    with pytest.raises(InvalidRecording) as caught:
        read_recording(path)
    assert caught.value.reason == FORBIDDEN_CONTENT, caught.value.message
    assert "DTD" in caught.value.message and "INJECTED" not in caught.value.message


@pytest.mark.parametrize(("encoding", "bom"), [("utf-16-le", False), ("utf-16-le", True), ("utf-8", False)])
def test_a_plain_aecg_reads_in_every_encoding(tmp_path, encoding, bom):
    """The refusal is about the DTD, not the encoding: the same document without one is read."""
    body = _document(tmp_path)
    declaration = f'<?xml version="1.0" encoding="{"UTF-16" if "16" in encoding else "UTF-8"}"?>'
    data = (b"\xff\xfe" if bom else b"") + (declaration + body).encode(encoding)
    path = tmp_path / "plain16.xml"
    path.write_bytes(data)
    rec = read_recording(path)
    assert rec.patient_ref == PATIENT and rec.signal.shape[0] == 12
