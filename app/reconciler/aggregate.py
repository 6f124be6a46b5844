"""From what each cluster reports to one workload status, and the events worth recording.

Pure functions over :class:`ClusterOutcome` values, so the rules are read (and tested) here:

* any cluster ``Failed`` (a permanent Kubernetes error, a failed rollout) → ``Failed``, with
  the API server's or controller's message;
* no cluster with credentials → ``Placed``: Placer planned it but cannot deploy it;
* a cluster unreachable, or not all replicas ready → ``Degraded`` if the current generation
  had been ready there before, else ``Deploying``;
* every cluster with credentials ready (a Job complete) → ``Running``.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    """Where one workload stands in one cluster."""

    PLANNED = "Planned"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"
    READY = "Ready"
    COMPLETE = "Complete"
    FAILED = "Failed"
    UNREACHABLE = "Unreachable"
    REMOVING = "Removing"
    REMOVED = "Removed"


class WorkloadStatus(StrEnum):
    """The statuses the reconciler writes (the workload service writes the others)."""

    PLACED = "Placed"
    DEPLOYING = "Deploying"
    RUNNING = "Running"
    DEGRADED = "Degraded"
    FAILED = "Failed"


_SETTLED = frozenset({Phase.READY, Phase.COMPLETE})


@dataclass(slots=True)
class ClusterOutcome:
    """What one reconcile found in one cluster.

    ``desired`` is ``None`` for a cluster the workload should leave. ``error`` is the
    Kubernetes message of a failure; ``retry_after`` the server's hint for a temporary one.
    ``pruned`` names (``"ConfigMap web-config"``) the objects the cluster was asked to delete
    because the manifests no longer have them.
    """

    cluster_id: uuid.UUID
    cluster: str
    desired: int | None
    phase: Phase
    ready: int = 0
    conditions: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    retry_after: float | None = None
    applied: bool = False
    removed_objects: int = 0
    pruned: list[str] = field(default_factory=list)

    @property
    def temporary_failure(self) -> bool:
        """A Kubernetes error that a later attempt may not meet."""
        return self.error is not None and self.phase is not Phase.FAILED


@dataclass(frozen=True, slots=True)
class Verdict:
    """The workload's status and message, from its desired clusters' outcomes."""

    status: WorkloadStatus
    message: str


def aggregate(outcomes: Sequence[ClusterOutcome]) -> Verdict | None:
    """The workload's status, or ``None`` when it is desired nowhere (nothing to report)."""
    desired = sorted((o for o in outcomes if o.desired is not None), key=lambda o: o.cluster)
    if not desired:
        return None
    planned = [o.cluster for o in desired if o.phase is Phase.PLANNED]
    planned_note = (
        f"cluster {', '.join(planned)} has no credentials: planned only" if planned else ""
    )
    active = [o for o in desired if o.phase is not Phase.PLANNED]
    failed = [o for o in active if o.phase is Phase.FAILED]
    if failed:
        return Verdict(
            WorkloadStatus.FAILED, "; ".join(f"cluster {o.cluster}: {o.error}" for o in failed)
        )
    if not active:
        return Verdict(WorkloadStatus.PLACED, planned_note)
    wanted = sum(o.desired or 0 for o in active)
    ready = sum(o.ready for o in active)
    counts = ", ".join(f"{o.cluster} {o.ready}/{o.desired}" for o in active)
    if all(o.phase in _SETTLED for o in active):
        message = f"{ready}/{wanted} replicas ready ({counts})"
        return Verdict(WorkloadStatus.RUNNING, _join(message, planned_note))
    problems = [f"cluster {o.cluster}: {o.error}; retrying" for o in active if o.error]
    message = _join(f"{ready}/{wanted} replicas ready ({counts})", *problems, planned_note)
    if any(o.phase is Phase.DEGRADED for o in active):
        return Verdict(WorkloadStatus.DEGRADED, message)
    return Verdict(WorkloadStatus.DEPLOYING, message)


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)
