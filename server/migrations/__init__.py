"""Alembic migrations of the Kinoroom database (a package so that installs carry them).

Run them with `server.persistence.migrate.upgrade` (the server does on start) or
``alembic -x url=… upgrade head`` from the repository root.
"""
