"""reconcile claims, per-cluster workload status, cluster sync columns

Revision ID: r6b2reconcile
Revises: w6a1workloads
Create Date: 2026-12-03 19:01:00.000000

The trigger wakes reconcilers (``LISTEN placer_reconcile``) when a workload is submitted, its
desired generation changes or its deletion is requested, so they need not poll fast.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'r6b2reconcile'
down_revision: str | None = 'w6a1workloads'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reconcile_claims',
    sa.Column('workload_id', sa.UUID(), nullable=False),
    sa.Column('holder', sa.Text(), nullable=True),
    sa.Column('fencing_token', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('attempted_generation', sa.Integer(), nullable=True),
    sa.Column('attempted_deletion', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['workload_id'], ['workloads.id'], name=op.f('fk_reconcile_claims_workload_id_workloads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workload_id', name=op.f('pk_reconcile_claims'))
    )
    op.create_index('ix_reconcile_claims_next_attempt_at', 'reconcile_claims', ['next_attempt_at'], unique=False)
    op.create_table('workload_cluster_status',
    sa.Column('workload_id', sa.UUID(), nullable=False),
    sa.Column('cluster_id', sa.UUID(), nullable=False),
    sa.Column('applied_generation', sa.Integer(), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('phase', sa.Text(), nullable=False),
    sa.Column('desired_replicas', sa.Integer(), nullable=False),
    sa.Column('ready_replicas', sa.Integer(), nullable=False),
    sa.Column('conditions', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_workload_cluster_status_cluster_id_clusters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workload_id'], ['workloads.id'], name=op.f('fk_workload_cluster_status_workload_id_workloads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workload_id', 'cluster_id', name=op.f('pk_workload_cluster_status'))
    )
    op.create_index(op.f('ix_workload_cluster_status_cluster_id'), 'workload_cluster_status', ['cluster_id'], unique=False)
    op.add_column('clusters', sa.Column('allocated_external', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False))
    op.add_column('clusters', sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('clusters', sa.Column('sync_message', sa.Text(), nullable=True))
    op.execute(
        """
        CREATE FUNCTION placer_notify_reconcile() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('placer_reconcile', NEW.id::text);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER workloads_notify_reconcile_insert AFTER INSERT ON workloads
        FOR EACH ROW EXECUTE FUNCTION placer_notify_reconcile()
        """
    )
    op.execute(
        """
        CREATE TRIGGER workloads_notify_reconcile_update AFTER UPDATE ON workloads
        FOR EACH ROW
        WHEN (OLD.desired_generation IS DISTINCT FROM NEW.desired_generation
              OR OLD.deletion_requested IS DISTINCT FROM NEW.deletion_requested)
        EXECUTE FUNCTION placer_notify_reconcile()
        """
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER workloads_notify_reconcile_update ON workloads')
    op.execute('DROP TRIGGER workloads_notify_reconcile_insert ON workloads')
    op.execute('DROP FUNCTION placer_notify_reconcile()')
    op.drop_column('clusters', 'sync_message')
    op.drop_column('clusters', 'synced_at')
    op.drop_column('clusters', 'allocated_external')
    op.drop_index(op.f('ix_workload_cluster_status_cluster_id'), table_name='workload_cluster_status')
    op.drop_table('workload_cluster_status')
    op.drop_index('ix_reconcile_claims_next_attempt_at', table_name='reconcile_claims')
    op.drop_table('reconcile_claims')
