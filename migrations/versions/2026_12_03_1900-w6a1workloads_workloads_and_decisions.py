"""workloads and decisions

Revision ID: w6a1workloads
Revises: 84fa03dae94f
Create Date: 2026-12-03 17:56:46.934028
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'w6a1workloads'
down_revision: str | None = '84fa03dae94f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('workloads',
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('namespace', sa.String(length=63), nullable=False),
    sa.Column('team', sa.String(length=63), nullable=False),
    sa.Column('labels', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('replicas', sa.Integer(), nullable=False),
    sa.Column('manifests', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('placement', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('disruption', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('spec', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_message', sa.Text(), nullable=False),
    sa.Column('deletion_requested', sa.Boolean(), nullable=False),
    sa.Column('desired_generation', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workloads')),
    sa.UniqueConstraint('namespace', 'name', name=op.f('uq_workloads_namespace_name'))
    )
    op.create_index('ix_workloads_labels', 'workloads', ['labels'], unique=False, postgresql_using='gin')
    op.create_index('ix_workloads_status', 'workloads', ['status'], unique=False)
    op.create_index('ix_workloads_team', 'workloads', ['team'], unique=False)
    op.create_table('decisions',
    sa.Column('workload_id', sa.UUID(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('decision', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('policy_versions', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('price_book_versions', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['workload_id'], ['workloads.id'], name=op.f('fk_decisions_workload_id_workloads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    op.create_index('ix_decisions_workload', 'decisions', ['workload_id', 'created_at'], unique=False)
    op.create_table('workload_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('workload_id', sa.UUID(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('cluster', sa.String(length=63), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['workload_id'], ['workloads.id'], name=op.f('fk_workload_events_workload_id_workloads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workload_events'))
    )
    op.create_index('ix_workload_events_workload', 'workload_events', ['workload_id', 'id'], unique=False)
    op.create_table('workload_placements',
    sa.Column('workload_id', sa.UUID(), nullable=False),
    sa.Column('cluster_id', sa.UUID(), nullable=False),
    sa.Column('replicas', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_workload_placements_cluster_id_clusters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workload_id'], ['workloads.id'], name=op.f('fk_workload_placements_workload_id_workloads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workload_id', 'cluster_id', name=op.f('pk_workload_placements'))
    )
    op.create_index(op.f('ix_workload_placements_cluster_id'), 'workload_placements', ['cluster_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_workload_placements_cluster_id'), table_name='workload_placements')
    op.drop_table('workload_placements')
    op.drop_index('ix_workload_events_workload', table_name='workload_events')
    op.drop_table('workload_events')
    op.drop_index('ix_decisions_workload', table_name='decisions')
    op.drop_table('decisions')
    op.drop_index('ix_workloads_team', table_name='workloads')
    op.drop_index('ix_workloads_status', table_name='workloads')
    op.drop_index('ix_workloads_labels', table_name='workloads', postgresql_using='gin')
    op.drop_table('workloads')
