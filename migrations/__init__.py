"""Alembic migrations of the wangge schema (run with ``wangge db upgrade``)."""
