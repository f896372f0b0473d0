"""The web upload gateway: a page and a JSON API that publish uploaded ECG files for diagnosis.

    browser / API client --multipart--> POST /api/recordings --> read_recording --> Publisher --> Kafka
    browser / API client <--JSON------- GET /api/recordings/{id} <-- storage.get_diagnosis <-- worker

Modules: ``app`` (factory, lifespan, error handlers), ``routes`` (HTTP), ``service`` (files ->
recording -> topic), ``fields`` (form checks), ``results`` (diagnosis JSON), ``page`` + ``templates/``
+ ``static/`` (the page), ``server`` (uvicorn), ``auth`` (tokens, sessions, SSO headers, scopes,
CSRF) and ``login`` (sign in and out).
"""

from ingest.gateway.app import create_app
from ingest.gateway.server import run_gateway

__all__ = ["create_app", "run_gateway"]
