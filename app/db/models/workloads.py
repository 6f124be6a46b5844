"""Workloads, their desired placements, the decisions that chose them and their history.

The reconciler reads ``workloads`` and ``workload_placements`` (desired state, written only
by the workload service) and writes a workload's observed ``status``; ``desired_generation``
increments whenever what should run where changes, so the reconciler knows what it applied.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey, utcnow


class Workload(UUIDPrimaryKey, Timestamps, Base):
    """A submitted workload: manifests plus placement intent, and where it stands.

    ``placement`` and ``disruption`` are the intent as the API shows it; ``spec`` is the same
    workload in the scheduler's form (replicas, requests per replica, intent in micro-units).
    ``version`` feeds the ETag; ``revision`` counts the operator's updates.
    """

    __tablename__ = "workloads"
    __table_args__ = (
        UniqueConstraint("namespace", "name"),
        Index("ix_workloads_labels", "labels", postgresql_using="gin"),
        Index("ix_workloads_status", "status"),
        Index("ix_workloads_team", "team"),
    )

    name: Mapped[str] = mapped_column(String(63))
    namespace: Mapped[str] = mapped_column(String(63))
    team: Mapped[str] = mapped_column(String(63))
    labels: Mapped[dict[str, Any]]
    kind: Mapped[str] = mapped_column(String(20))
    replicas: Mapped[int]
    manifests: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    placement: Mapped[dict[str, Any]]
    disruption: Mapped[dict[str, Any]]
    spec: Mapped[dict[str, Any]]
    revision: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20))
    status_message: Mapped[str] = mapped_column(Text, default="")
    deletion_requested: Mapped[bool] = mapped_column(default=False)
    desired_generation: Mapped[int] = mapped_column(default=1)
    version: Mapped[int] = mapped_column(default=1)


class WorkloadPlacement(Base):
    """Desired state: ``replicas`` of the workload should run on the cluster."""

    __tablename__ = "workload_placements"

    workload_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workloads.id", ondelete="CASCADE"), primary_key=True
    )
    cluster_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    replicas: Mapped[int]


class WorkloadObject(Base):
    """A Kubernetes object one workload's manifests define: each ``(namespace, kind, name)``
    belongs to at most one workload, so two workloads never apply over each other's objects.

    Written with the workload's manifests, in the same transaction; a workload being deleted
    keeps its rows until the reconciler has removed its objects and deletes the workload.
    """

    __tablename__ = "workload_objects"

    workload_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workloads.id", ondelete="CASCADE"), index=True
    )
    namespace: Mapped[str] = mapped_column(String(63), primary_key=True)
    kind: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(253), primary_key=True)


class Decision(UUIDPrimaryKey, Base):
    """A stored placement decision with everything needed to explain and replay it.

    ``method`` is ``scheduler`` (one workload, ``decision`` is ``Decision.to_json()``) or
    ``optimizer`` (a joint batch; ``decision`` holds the batch report and this workload's
    answer).
    """

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_workload", "workload_id", "created_at"),)

    workload_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workloads.id", ondelete="CASCADE"))
    revision: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    method: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    decision: Mapped[dict[str, Any]]
    policy_versions: Mapped[dict[str, Any]]
    price_book_versions: Mapped[dict[str, Any]]


class WorkloadEvent(Base):
    """One entry of a workload's history (decided, applied, ready, failed, retried...)."""

    __tablename__ = "workload_events"
    __table_args__ = (Index("ix_workload_events_workload", "workload_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    workload_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workloads.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    cluster: Mapped[str | None] = mapped_column(String(63))
    message: Mapped[str] = mapped_column(Text)
    generation: Mapped[int]
