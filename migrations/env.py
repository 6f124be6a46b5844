"""Alembic environment: runs online against the URL put in the config by ``app.db.migrate``."""

from alembic import context
from sqlalchemy import create_engine, pool, text

import app.db.models  # noqa: F401  (importing it registers every table on Base.metadata)
from app.db.base import Base

# Several service replicas may start together; this lock makes them migrate one at a time.
MIGRATION_LOCK_ID = 0x504C41434552


def run_migrations_online() -> None:
    url = context.config.attributes["database_url"]
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                compare_type=True,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
    engine.dispose()


run_migrations_online()
