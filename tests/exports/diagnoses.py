"""Real diagnoses for the export tests: the analysis ``ecgstream diagnose`` runs, on real records.

Records: CinC 2021 E07501 (sinus tachycardia), JS20001 (a modifier that qualifies a statement),
HR06000, LUDB 1, and a copy of E07501 with four electrodes off (unreadable). Each gets a clear patient
reference and an acquisition time, as a cart would send them; the exports must show only its keyed
hash. Analysed once per test session (the shipped model, one torch thread).
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import UTC, datetime

from core.config import DEFAULT_MODEL_PATH
from ecgstream.commands.diagnose import diagnosis_event
from exports import PatientIdentity, Waveform
from ingest import read_recording
from schemas import DiagnosisEvent, Recording
from schemas.pseudonym import patient_pseudonym
from tests.conftest import shared_data_dir
from tests.stream_processor.records import leads_off_recording

SECRET = "ecgstream-tests-only-patient-secret"
ACQUIRED_AT = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class RealDiagnosis:
    name: str
    recording: Recording
    event: DiagnosisEvent

    @property
    def patient(self) -> PatientIdentity:
        """The patient as the storage knows it: the keyed hash of the clear reference."""
        assert self.recording.patient_ref is not None
        return PatientIdentity(pseudonym=patient_pseudonym(self.recording.patient_ref, SECRET))

    @property
    def waveform(self) -> Waveform:
        return Waveform(self.recording.signal, self.recording.fs, tuple(self.recording.leads))


def _records() -> list[tuple[str, Recording]]:
    cinc, ludb = shared_data_dir("cinc2021"), shared_data_dir("ludb")
    named = [(stem, read_recording(cinc / f"{stem}.hea")) for stem in ("E07501", "JS20001", "HR06000")]
    named.append(("ludb-1", read_recording(ludb / "1.hea")))
    named.append(("E07501-leads-off", leads_off_recording(named[0][1])))
    return [
        (name, dataclasses.replace(rec, patient_ref=f"MRN-{4711 + i}", acquired_at=ACQUIRED_AT, device_id="cart-7"))
        for i, (name, rec) in enumerate(named)
    ]


@functools.cache
def real_diagnoses() -> dict[str, RealDiagnosis]:
    """name -> the recording and its diagnosis event (as ``ecgstream diagnose --format fhir`` builds it)."""
    from model.predictor import Predictor
    from stream_processor.analysis import AnalysisOptions, BatchAnalyser

    predictor = Predictor.load(DEFAULT_MODEL_PATH, torch_threads=1)
    records = _records()
    outcomes = BatchAnalyser(predictor, AnalysisOptions()).run([rec for _, rec in records]).outcomes
    return {
        name: RealDiagnosis(name, rec, diagnosis_event(rec, outcome, predictor.version))
        for (name, rec), outcome in zip(records, outcomes, strict=True)
    }
