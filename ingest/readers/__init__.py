"""One module per file format; each exposes ``read(path) -> Recording`` and raises only EcgstreamErrors."""
