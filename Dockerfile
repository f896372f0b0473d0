# ecgstream service image: worker, gateway and CLI (CPU inference).
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
WORKDIR /app
# CPU build of torch first: the default wheel on Linux is a multi-GB CUDA build.
RUN pip install torch==2.13.0 --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
COPY pyproject.toml README.md ./
COPY core core
COPY ecgstream ecgstream
COPY ingest ingest
COPY schemas schemas
COPY stream_processor stream_processor
COPY model model
COPY storage storage
COPY measurements measurements
COPY interpretation interpretation
COPY exports exports
COPY webapp webapp
RUN pip install .
USER nobody
ENTRYPOINT ["ecgstream"]
CMD ["worker"]
