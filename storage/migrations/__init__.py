"""Alembic migrations of the ecgstream database (run them with ``ecgstream db upgrade``)."""
