"""What the reconciler persists: who works on a workload now, and what each cluster reports.

``reconcile_claims`` holds one row per workload once the reconciler has seen it. A replica
claims a workload by taking the row with ``FOR UPDATE SKIP LOCKED`` while its lease is free or
expired, incrementing ``fencing_token``; every later write of that replica checks the token in
the same transaction, so a replica that lost its claim while paused writes nothing. The row
also keeps the retry schedule (``next_attempt_at``, ``failures``), so a restart keeps backoff.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Text, false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class ReconcileClaim(Base):
    """The claim on one workload and its reconcile schedule.

    ``attempted_generation`` and ``attempted_deletion`` record what the last claim set out to
    converge, so a new desired generation or a deletion makes the workload due at once, while
    retries of the same generation wait for ``next_attempt_at``.
    """

    __tablename__ = "reconcile_claims"
    __table_args__ = (Index("ix_reconcile_claims_next_attempt_at", "next_attempt_at"),)

    workload_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workloads.id", ondelete="CASCADE"), primary_key=True
    )
    holder: Mapped[str | None] = mapped_column(Text)
    fencing_token: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    expires_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    attempted_generation: Mapped[int | None]
    attempted_deletion: Mapped[bool] = mapped_column(default=False, server_default=false())


class WorkloadClusterStatus(Base):
    """What one cluster runs of a workload, as last applied and read back.

    A row exists for every cluster the reconciler may have applied to, written before it
    applies, so objects left by a reconciler killed mid-way are found and removed later.
    ``phase`` is ``Planned`` (no credentials), ``Progressing``, ``Ready``, ``Complete``,
    ``Failed``, ``Unreachable`` or ``Removing``.
    """

    __tablename__ = "workload_cluster_status"

    workload_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workloads.id", ondelete="CASCADE"), primary_key=True
    )
    cluster_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    applied_generation: Mapped[int | None]
    applied_at: Mapped[datetime | None]
    phase: Mapped[str] = mapped_column(Text, default="Progressing")
    desired_replicas: Mapped[int] = mapped_column(default=0)
    ready_replicas: Mapped[int] = mapped_column(default=0)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
