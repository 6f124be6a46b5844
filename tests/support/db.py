"""Pytest fixtures for a real PostgreSQL: one embedded server per session, a database per test.

``postgres_admin_url`` (session) starts the server in a temporary directory and deletes it at
the end. ``migrated_template`` (session) migrates a template database to head once.
``db_url`` gives each test its own database cloned from that template (a file copy: fast, and
tests never see each other's rows), dropped afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from app.config import Settings
from app.db.migrate import upgrade_to_head

TEMPLATE_DATABASE = "placer_template"


def database_url(admin_url: str, database: str) -> str:
    """``admin_url`` pointed at another database on the same server."""
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The URL of the session's embedded server, as its superuser."""
    import pgserver  # noqa: PLC0415  (only sessions that need a database start one)

    # Not under pytest's private tmp dir: run as root, pgserver hands the data directory to an
    # unprivileged user, who must be able to traverse every parent.
    parent = Path(tempfile.mkdtemp(prefix="placer-test-pg-"))
    parent.chmod(0o755)
    server = pgserver.get_server(  # type: ignore[attr-defined]
        parent / "data", cleanup_mode="delete"
    )
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_template(postgres_admin_url: str) -> str:
    """A database at the newest migration, to clone; returns its name."""
    with psycopg.connect(postgres_admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE_DATABASE)))
    upgrade_to_head(
        database_url(postgres_admin_url, TEMPLATE_DATABASE), Settings().resolved_migrations_dir
    )
    return TEMPLATE_DATABASE


@pytest.fixture
def db_url(postgres_admin_url: str, migrated_template: str) -> Iterator[str]:
    """A fresh, migrated database for this test alone."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(migrated_template)
            )
        )
    yield database_url(postgres_admin_url, name)
    with psycopg.connect(postgres_admin_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def raw_db(db_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A plain connection to the test's database, to read what is really stored."""
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


def migrations_dir() -> Path:
    """Where the Alembic scripts of this checkout are."""
    return Settings().resolved_migrations_dir
