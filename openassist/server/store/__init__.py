"""Persistence: SQLAlchemy Core on SQLite or PostgreSQL (``db.py``), the tables (``schema/``,
built by the alembic migrations), and one module of queries per table family returning frozen
records (``records.py``) whose closed sets are enums."""
