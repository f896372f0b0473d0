"""The web gateway: a page and a JSON API that publish uploaded ECG files for diagnosis and show
the clinician their results. It sits on top of ingest, storage and interpretation; no lower package
imports it (tests/test_layers.py).

    browser / API client --multipart--> POST /api/recordings --> read_recording --> Publisher --> Kafka
    browser / API client <--JSON------- GET /api/recordings/{id} <-- storage.get_diagnosis <-- worker

Modules: ``app`` (factory, lifespan, error handlers), ``routes`` (HTTP), ``service`` (files ->
recording -> topic), ``fields`` (form checks), ``results`` (diagnosis JSON), ``page`` + ``templates/``
+ ``static/`` (the page), ``server`` (uvicorn, as every gateway runs it), ``deadlines`` (header and
body deadlines), ``admission`` (bounded sign-ins and renders), ``auth`` (tokens, sessions, SSO
headers, scopes, CSRF), ``login`` (sign in and out) and the clinician's view: ``clinic`` (tracing and
report routes), ``tracing`` (the 12-lead SVG/PNG), ``report`` + ``report_text`` (the chart-ready PDF),
``history`` + ``listing`` (history and patient history), ``comparison`` (serial comparison) and the
physician overread: ``worklist`` (the worklist), ``overread`` (confirm / edit / reject, the audit
trail), ``overread_input`` (body checks) and ``overread_events`` (the overreads topic).
"""

from webapp.app import create_app
from webapp.server import run_gateway

__all__ = ["create_app", "run_gateway"]
