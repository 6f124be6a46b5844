"""one workload per Kubernetes object: workload_objects

Revision ID: o8d4objects
Revises: i7c3syncnotify
Create Date: 2026-12-05 10:00:00.000000

Every object a workload's manifests define, as ``(namespace, kind, name)``, is a row owned
by that workload; the primary key lets only one workload hold a name, so two submissions can
never both deploy ``Deployment/checkout`` into the same namespace (the second used to take
over the first's object in the shared cluster).

Existing workloads are entered here. Where old data already has two workloads defining the
same object, the oldest (by ``created_at``, then id) keeps the name; the others get no row for
it and the reconciler, which applies nothing over an object another workload owns, marks them
``Failed`` in each cluster where the object exists, until they are renamed or deleted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'o8d4objects'
down_revision: str | None = 'i7c3syncnotify'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('workload_objects',
    sa.Column('workload_id', sa.UUID(), nullable=False),
    sa.Column('namespace', sa.String(length=63), nullable=False),
    sa.Column('kind', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=253), nullable=False),
    sa.ForeignKeyConstraint(['workload_id'], ['workloads.id'], name=op.f('fk_workload_objects_workload_id_workloads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('namespace', 'kind', 'name', name=op.f('pk_workload_objects'))
    )
    op.create_index(op.f('ix_workload_objects_workload_id'), 'workload_objects', ['workload_id'], unique=False)
    op.execute(
        """
        INSERT INTO workload_objects (workload_id, namespace, kind, name)
        SELECT DISTINCT ON (w.namespace, m.value->>'kind', m.value->'metadata'->>'name')
               w.id, w.namespace, m.value->>'kind', m.value->'metadata'->>'name'
        FROM workloads AS w CROSS JOIN LATERAL jsonb_array_elements(w.manifests) AS m
        WHERE m.value->>'kind' IS NOT NULL AND m.value->'metadata'->>'name' IS NOT NULL
        ORDER BY w.namespace, m.value->>'kind', m.value->'metadata'->>'name', w.created_at, w.id
        """
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_workload_objects_workload_id'), table_name='workload_objects')
    op.drop_table('workload_objects')
