"""Every table, imported here so that ``Base.metadata`` is complete for Alembic."""

from app.db.models.audit import AuditEvent
from app.db.models.auth import ApiToken
from app.db.models.clusters import Cluster
from app.db.models.idempotency import IdempotencyRecord
from app.db.models.pricebooks import PriceBook, PriceBookVersion
from app.db.models.reconciler import ReconcileClaim, WorkloadClusterStatus
from app.db.models.workloads import (
    Decision,
    Workload,
    WorkloadEvent,
    WorkloadObject,
    WorkloadPlacement,
)

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Cluster",
    "Decision",
    "IdempotencyRecord",
    "PriceBook",
    "PriceBookVersion",
    "ReconcileClaim",
    "Workload",
    "WorkloadClusterStatus",
    "WorkloadEvent",
    "WorkloadObject",
    "WorkloadPlacement",
]
