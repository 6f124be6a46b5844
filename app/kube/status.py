"""How far a Deployment, StatefulSet or Job has got, read from its status as kubectl reads it.

``rollout`` condenses the counters and conditions into what Placer acts on: a migration waits
for ``READY`` in the target cluster (``COMPLETE`` for a Job), and ``FAILED`` marks the
workload failed with the condition's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

WORKLOAD_KINDS = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "Job": "batch/v1"}


class Rollout(StrEnum):
    """Where a workload object stands."""

    PROGRESSING = "Progressing"
    READY = "Ready"
    COMPLETE = "Complete"
    FAILED = "Failed"


@dataclass(frozen=True, slots=True)
class Condition:
    """One entry of ``status.conditions``."""

    type: str
    status: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class WorkloadStatus:
    """Replica counts and conditions of one workload object in one cluster.

    ``desired_replicas`` is ``spec.replicas`` (a Job's ``spec.parallelism``); ``total_replicas``
    counts every pod the controller runs, old and new (a Job's active pods); ``observed`` says
    the controller has seen the current spec, without which the counters describe an older one.
    """

    kind: str
    namespace: str
    name: str
    desired_replicas: int
    total_replicas: int
    updated_replicas: int
    ready_replicas: int
    available_replicas: int
    observed: bool
    conditions: tuple[Condition, ...]

    def condition(self, condition_type: str) -> Condition | None:
        """The condition of that type, if the object has one."""
        return next((c for c in self.conditions if c.type == condition_type), None)

    @property
    def rollout(self) -> Rollout:
        """Where the object stands, judged as ``kubectl rollout status`` does."""
        if self.kind == "Job":
            return self._job_rollout()
        progressing = self.condition("Progressing")
        if (
            progressing is not None
            and progressing.status == "False"
            and progressing.reason == "ProgressDeadlineExceeded"
        ):
            return Rollout.FAILED
        desired = self.desired_replicas
        settled = self.observed and all(
            count == desired
            for count in (
                self.total_replicas,
                self.updated_replicas,
                self.ready_replicas,
                self.available_replicas,
            )
        )
        return Rollout.READY if settled else Rollout.PROGRESSING

    def _job_rollout(self) -> Rollout:
        for condition_type, rollout in (("Complete", Rollout.COMPLETE), ("Failed", Rollout.FAILED)):
            condition = self.condition(condition_type)
            if condition is not None and condition.status == "True":
                return rollout
        if 0 < self.desired_replicas <= self.ready_replicas:
            return Rollout.READY
        return Rollout.PROGRESSING


def workload_status(kind: str, obj: Mapping[str, Any]) -> WorkloadStatus:
    """Read the status of a Deployment, StatefulSet or Job object (JSON)."""
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    conditions = tuple(
        Condition(
            type=str(entry.get("type", "")),
            status=str(entry.get("status", "")),
            reason=str(entry.get("reason", "")),
            message=str(entry.get("message", "")),
        )
        for entry in status.get("conditions") or ()
    )
    if kind == "Job":
        desired = spec.get("parallelism", 1)
        total = updated = status.get("active", 0)
        ready = available = status.get("ready", 0)
    else:
        desired = spec.get("replicas", 1)
        total = status.get("replicas", 0)
        updated = status.get("updatedReplicas", 0)
        ready = status.get("readyReplicas", 0)
        available = status.get("availableReplicas", 0)
    return WorkloadStatus(
        kind=kind,
        namespace=metadata.get("namespace", ""),
        name=metadata.get("name", ""),
        desired_replicas=desired,
        total_replicas=total,
        updated_replicas=updated,
        ready_replicas=ready,
        available_replicas=available,
        # Jobs report no observedGeneration; their counters always describe the current spec.
        observed=kind == "Job"
        or status.get("observedGeneration", 0) >= metadata.get("generation", 0),
        conditions=conditions,
    )
