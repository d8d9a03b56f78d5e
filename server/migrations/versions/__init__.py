"""Alembic revisions, one module per revision: ``<rev>_<slug>.py``."""
