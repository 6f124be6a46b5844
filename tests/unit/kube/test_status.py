"""A workload's status says whether it is ready, still rolling out, finished or failed."""

from __future__ import annotations

from typing import Any

import pytest

from app.kube import Rollout
from app.kube.status import workload_status


def _object(spec: dict[str, Any], status: dict[str, Any], generation: int = 2) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "shop", "generation": generation},
        "spec": spec,
        "status": status,
    }


SETTLED = {
    "observedGeneration": 2,
    "replicas": 3,
    "updatedReplicas": 3,
    "readyReplicas": 3,
    "availableReplicas": 3,
}


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("Deployment", SETTLED, Rollout.READY),
        ("Deployment", {**SETTLED, "observedGeneration": 1}, Rollout.PROGRESSING),
        ("Deployment", {**SETTLED, "replicas": 4}, Rollout.PROGRESSING),
        ("Deployment", {**SETTLED, "readyReplicas": 2}, Rollout.PROGRESSING),
        (
            "Deployment",
            {
                **SETTLED,
                "readyReplicas": 1,
                "conditions": [
                    {
                        "type": "Progressing",
                        "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                        "message": 'ReplicaSet "web-5d8" has timed out progressing.',
                    }
                ],
            },
            Rollout.FAILED,
        ),
        ("StatefulSet", SETTLED, Rollout.READY),
        ("StatefulSet", {**SETTLED, "updatedReplicas": 1}, Rollout.PROGRESSING),
    ],
)
def test_replicated_workload_rollout(kind: str, status: dict[str, Any], expected: Rollout) -> None:
    result = workload_status(kind, _object({"replicas": 3}, status))

    assert result.rollout is expected
    assert (result.desired_replicas, result.ready_replicas) == (3, status["readyReplicas"])


def test_conditions_are_kept_with_their_messages() -> None:
    status = {
        **SETTLED,
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
            }
        ],
    }
    available = workload_status("Deployment", _object({"replicas": 3}, status)).condition(
        "Available"
    )

    assert available is not None
    assert available.reason == "MinimumReplicasAvailable"
    assert available.message == "Deployment has minimum availability."


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"active": 2, "ready": 1}, Rollout.PROGRESSING),
        ({"active": 2, "ready": 2}, Rollout.READY),
        (
            {"succeeded": 2, "conditions": [{"type": "Complete", "status": "True"}]},
            Rollout.COMPLETE,
        ),
        (
            {
                "failed": 7,
                "conditions": [
                    {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}
                ],
            },
            Rollout.FAILED,
        ),
    ],
)
def test_job_rollout(status: dict[str, Any], expected: Rollout) -> None:
    job = workload_status("Job", _object({"parallelism": 2}, status, generation=1))

    assert job.rollout is expected
    assert job.observed
