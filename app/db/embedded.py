"""The embedded PostgreSQL server used when no ``PLACER_DATABASE_URL`` is configured."""

import logging
from pathlib import Path

import psycopg
from psycopg import sql

DATABASE_NAME = "placer"
_logger = logging.getLogger(__name__)


def start_embedded_postgres(data_dir: Path, *, database: str = DATABASE_NAME) -> str:
    """Start (or reuse) the server whose files live in ``data_dir/postgres``; return its URL.

    The data survives restarts; the server stops when the process that started it exits.
    """
    import pgserver  # noqa: PLC0415  (heavy, and only needed when no server is configured)

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(  # type: ignore[attr-defined]
        data_dir / "postgres", cleanup_mode="stop"
    )
    admin_url: str = server.get_uri()
    create_database_if_missing(admin_url, database)
    url: str = server.get_uri(database)
    _logger.info("embedded postgres ready", extra={"data_dir": str(data_dir)})
    return url


def create_database_if_missing(admin_url: str, database: str) -> None:
    """Create ``database`` on the server behind the libpq URL ``admin_url`` unless it exists."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if exists is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
