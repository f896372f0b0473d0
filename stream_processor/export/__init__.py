"""``ecgstream export``: diagnoses to a FHIR topic, a FHIR server (HTTP) and an HL7 v2 receiver (MLLP).

``service`` is the consumer loop, ``exporter`` exports one event, ``fhir_client`` and ``mllp``
make one delivery attempt each, ``delivery`` retries them; the builders are in ``exports``.
"""
