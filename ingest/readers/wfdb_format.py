"""WFDB records (``.hea`` + ``.dat`` or ``.mat``) via the ``wfdb`` package.

Demographics come from header comments, in the forms ``# Age: 65`` / ``# Sex: Male`` (PhysioNet
Challenge) and ``#<age>: 51`` / ``#<sex>: F`` (LUDB). Physical units are converted to mV.

The header is checked before any sample is decoded: wfdb allocates ``sig_len`` x samples per frame
for every signal (FLAC formats 508/516/524 included) whatever the signal file's size, so their
product is bounded by ``ReadLimits``.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import EcgstreamError
from ingest.identity import content_recording_id
from ingest.leads import assemble_leads, normalise_lead_name
from ingest.limits import DEFAULT_LIMITS, ReadLimits, refuse_above
from schemas.errors import InvalidRecording, UnsupportedFormat
from schemas.recording import Recording

__all__ = ["read", "header_path", "parse_comments"]

logger = logging.getLogger(__name__)

MAX_SIGNALS = 64
MAX_SAMPLES = 2_000_000  # per lead: far beyond 120 s at 2 kHz, small enough to never exhaust memory
MAX_SAMPLES_PER_FRAME = 32
UNIT_SCALE = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3, "nu": 1.0, "": 1.0}
_COMMENT = re.compile(r"^\s*<?\s*(age|sex|gender)\s*>?\s*:\s*(.*?)\s*$", re.IGNORECASE)


def header_path(path: Path) -> Path:
    """The ``.hea`` of a record given its header, signal file or base name."""
    path = Path(path)
    return path if path.suffix.lower() == ".hea" else path.with_suffix(".hea")


def parse_comments(comments: list[str]) -> dict[str, Any]:
    """Age and sex from WFDB header comments."""
    found: dict[str, Any] = {}
    for line in comments:
        match = _COMMENT.match(line)
        if not match:
            continue
        key, value = match.group(1).lower(), match.group(2)
        if key == "age":
            try:
                age = int(float(value))
            except ValueError:
                continue
            if 0 <= age <= 130:
                found["age"] = age
        else:
            sex = value.strip().upper()[:1]
            if sex in ("M", "F"):
                found["sex"] = sex
    return found


def _check_header(header: Any, name: str, limits: ReadLimits) -> None:
    """Refuse a header whose declared sizes would decode to more than ``limits`` allow."""
    n_sig, sig_len = int(header.n_sig or 0), int(header.sig_len or 0)
    if not 0 < n_sig <= MAX_SIGNALS or not 0 < sig_len <= MAX_SAMPLES:
        raise UnsupportedFormat(
            f"{name}: implausible header ({n_sig} signals x {sig_len} samples)", reason="unreadable"
        )
    frames = [int(spf or 1) for spf in (header.samps_per_frame or [1] * n_sig)]
    if max(frames) > MAX_SAMPLES_PER_FRAME or min(frames) < 1:
        raise UnsupportedFormat(
            f"{name}: {max(frames)} samples per frame (at most {MAX_SAMPLES_PER_FRAME} are read)",
            reason="unreadable",
        )
    values = sig_len * sum(frames)
    refuse_above(name, "the number of samples (signals x length x samples per frame)", values, limits.max_values)
    refuse_above(name, "the decoded size in bytes", 8 * values, limits.max_decoded_bytes)


def read(path: Path, *, limits: ReadLimits = DEFAULT_LIMITS) -> Recording:
    """A WFDB record as a normalised 12-lead ``Recording`` in mV at its native rate."""
    import wfdb

    hea = header_path(path)
    if not hea.is_file():
        raise UnsupportedFormat(
            f"{Path(path).name}: WFDB signal file without its header {hea.name}", reason="unreadable"
        )
    base = str(hea.with_suffix(""))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = wfdb.rdheader(base)
            _check_header(header, hea.name, limits)
            n_sig = int(header.n_sig)
            record = wfdb.rdrecord(base, physical=True)
    except EcgstreamError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # wfdb raises ValueError, IndexError, OSError, struct errors...
        raise UnsupportedFormat(
            f"{hea.name}: unreadable WFDB record ({type(exc).__name__}: {exc})", reason="unreadable"
        ) from exc
    signal = np.asarray(record.p_signal, dtype=np.float64)
    if signal.ndim != 2 or signal.shape[1] != len(record.sig_name or []):
        raise UnsupportedFormat(f"{hea.name}: signal does not match its header", reason="unreadable")
    named: dict[str, np.ndarray] = {}
    for index, (label, unit) in enumerate(zip(record.sig_name, record.units or [""] * n_sig, strict=False)):
        name = normalise_lead_name(label)
        scale = UNIT_SCALE.get(str(unit or "").strip().lower())
        if name is None or name in named:
            continue
        if scale is None:
            raise InvalidRecording(
                f"{hea.name}: lead {label} has unknown units {unit!r}", reason="implausible_amplitude"
            )
        named[name] = signal[:, index] * scale
    if not named:
        raise InvalidRecording(
            f"{hea.name}: no ECG lead names among {record.sig_name}", reason="missing_leads"
        )
    fs = float(record.fs)
    signal_mv = assemble_leads(named)
    return Recording(
        signal=signal_mv,
        fs=fs,
        recording_id=content_recording_id("wfdb", hea.stem, signal_mv, fs),
        source=hea.name,
        **parse_comments(list(record.comments or [])),
    )
