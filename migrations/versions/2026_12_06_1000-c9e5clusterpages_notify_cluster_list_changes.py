"""notify every server process when what a cluster list shows changes

Revision ID: c9e5clusterpages
Revises: o8d4objects
Create Date: 2026-12-06 10:00:00.000000

Each process serves ``GET /v1/clusters`` pages from memory (``app/clusters/cache.py``) and
drops them when ``NOTIFY placer_clusters_changed`` arrives. A list shows rows of ``clusters``
and the pricing of ``price_books`` and ``price_book_versions``, so any statement changing one
of them notifies; one notification per statement (and Postgres folds identical ones within a
transaction into one) keeps bulk changes cheap.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c9e5clusterpages"
down_revision: str | None = "o8d4objects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("clusters", "price_books", "price_book_versions")


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION placer_notify_clusters_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('placer_clusters_changed', TG_TABLE_NAME);
            RETURN NULL;
        END $$
        """
    )
    for table in _TABLES:
        op.execute(
            f"""
            CREATE TRIGGER {table}_notify_clusters_changed
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION placer_notify_clusters_changed()
            """
        )


def downgrade() -> None:
    for table in _TABLES:
        op.execute(f"DROP TRIGGER {table}_notify_clusters_changed ON {table}")
    op.execute("DROP FUNCTION placer_notify_clusters_changed()")
