"""initial schema

Revision ID: 84fa03dae94f
Revises: 
Create Date: 2026-12-03 17:35:24.125918
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '84fa03dae94f'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_prefix', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('actor_role', sa.String(length=20), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('resource_type', sa.String(length=50), nullable=False),
    sa.Column('resource_id', sa.String(length=255), nullable=False),
    sa.Column('request_id', sa.String(length=100), nullable=True),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index('ix_audit_events_actor', 'audit_events', ['actor', 'id'], unique=False)
    op.create_index('ix_audit_events_occurred_at', 'audit_events', ['occurred_at'], unique=False)
    op.create_index('ix_audit_events_resource', 'audit_events', ['resource_type', 'resource_id', 'id'], unique=False)
    op.create_table('idempotency_records',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('token_id', sa.UUID(), nullable=False),
    sa.Column('route', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('response_headers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('token_id', 'route', 'key', name=op.f('uq_idempotency_records_token_id_route_key'))
    )
    op.create_table('price_books',
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_books')),
    sa.UniqueConstraint('name', name=op.f('uq_price_books_name'))
    )
    op.create_table('clusters',
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('provider', sa.String(length=63), nullable=False),
    sa.Column('region', sa.String(length=63), nullable=False),
    sa.Column('zones', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('jurisdictions', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('labels', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('taints', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('capacity', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('cordoned', sa.Boolean(), nullable=False),
    sa.Column('draining', sa.Boolean(), nullable=False),
    sa.Column('unreachable', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('api_server', sa.String(length=2048), nullable=True),
    sa.Column('credentials_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('price_book_id', sa.UUID(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['price_book_id'], ['price_books.id'], name=op.f('fk_clusters_price_book_id_price_books'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters')),
    sa.UniqueConstraint('name', name=op.f('uq_clusters_name'))
    )
    op.create_index('ix_clusters_country', 'clusters', ['country'], unique=False)
    op.create_index('ix_clusters_labels', 'clusters', ['labels'], unique=False, postgresql_using='gin')
    op.create_index(op.f('ix_clusters_price_book_id'), 'clusters', ['price_book_id'], unique=False)
    op.create_index('ix_clusters_state', 'clusters', ['state'], unique=False)
    op.create_table('price_book_versions',
    sa.Column('price_book_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cpu_per_vcpu_hour', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('memory_per_gib_hour', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('gpu_per_gpu_hour', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('monthly_fixed_cost', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['price_book_id'], ['price_books.id'], name=op.f('fk_price_book_versions_price_book_id_price_books'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_book_versions')),
    sa.UniqueConstraint('price_book_id', 'effective_from', name=op.f('uq_price_book_versions_price_book_id_effective_from')),
    sa.UniqueConstraint('price_book_id', 'version', name=op.f('uq_price_book_versions_price_book_id_version'))
    )


def downgrade() -> None:
    op.drop_table('price_book_versions')
    op.drop_index('ix_clusters_state', table_name='clusters')
    op.drop_index(op.f('ix_clusters_price_book_id'), table_name='clusters')
    op.drop_index('ix_clusters_labels', table_name='clusters', postgresql_using='gin')
    op.drop_index('ix_clusters_country', table_name='clusters')
    op.drop_table('clusters')
    op.drop_table('price_books')
    op.drop_table('idempotency_records')
    op.drop_index('ix_audit_events_resource', table_name='audit_events')
    op.drop_index('ix_audit_events_occurred_at', table_name='audit_events')
    op.drop_index('ix_audit_events_actor', table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_table('api_tokens')
