"""notify the inventory sync when a cluster's credentials are set or changed

Revision ID: i7c3syncnotify
Revises: r6b2reconcile
Create Date: 2026-12-04 09:00:00.000000

The inventory sync listens on ``placer_inventory`` and syncs the named cluster at once, so a
cluster registered with credentials (or given new ones) shows its real capacity and state
within moments rather than at the next periodic sync.
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'i7c3syncnotify'
down_revision: str | None = 'r6b2reconcile'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION placer_notify_inventory() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('placer_inventory', NEW.id::text);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER clusters_notify_inventory_insert AFTER INSERT ON clusters
        FOR EACH ROW WHEN (NEW.credentials_ciphertext IS NOT NULL)
        EXECUTE FUNCTION placer_notify_inventory()
        """
    )
    op.execute(
        """
        CREATE TRIGGER clusters_notify_inventory_update AFTER UPDATE OF credentials_ciphertext
        ON clusters FOR EACH ROW
        WHEN (NEW.credentials_ciphertext IS NOT NULL
              AND OLD.credentials_ciphertext IS DISTINCT FROM NEW.credentials_ciphertext)
        EXECUTE FUNCTION placer_notify_inventory()
        """
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER clusters_notify_inventory_update ON clusters')
    op.execute('DROP TRIGGER clusters_notify_inventory_insert ON clusters')
    op.execute('DROP FUNCTION placer_notify_inventory()')
