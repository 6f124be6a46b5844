"""The Kubernetes side of one reconcile: apply to a desired cluster, remove from another.

Each step is idempotent, so a reconcile killed anywhere is simply run again: server-side apply
of the same manifests under the same names changes nothing, and objects are found for removal
by their ownership labels, not by anything remembered.

Every apply is followed by a prune: the objects labelled as this workload's in the cluster
(its namespace is fixed, so they are all in it) whose kind and name the manifests no longer
have, such as a renamed ConfigMap or a dropped Service, are deleted, after the new set is
applied so that nothing the workload still uses goes first. A generation counts as applied in
a cluster only once its prune has finished, so a reconciler killed between apply and prune, or
a prune cut short by an unreachable cluster, applies and prunes again on the next pass; the
periodic resync (which re-applies) prunes too. Objects of other workloads and objects Placer
did not label are never listed, so never pruned.

Placer applies with ``force`` (it must win over fields others set on its own objects), so it
never applies over an object it does not own: before each apply it reads the owner of every
object that already exists, and an object made by hand or labelled as another workload's
fails the workload in that cluster with nothing applied. (An object created between that read
and the apply is still taken over; the window is one round trip.)
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.kube import (
    KubeDriver,
    KubeNotFoundError,
    PermanentKubeError,
    Rollout,
    TemporaryKubeError,
    stamp_ownership,
)
from app.reconciler.aggregate import ClusterOutcome, Phase
from app.workloads.manifests import WorkloadManifests


@dataclass(frozen=True, slots=True)
class Deployment:
    """One workload's manifests for one cluster, with that cluster's share of replicas."""

    workload_id: str
    namespace: str
    manifests: WorkloadManifests
    replicas: int

    def objects(self) -> list[dict[str, Any]]:
        """The manifests stamped with Placer's ownership labels and this cluster's replicas."""
        primary = (self.manifests.kind, self.manifests.name)
        return [
            stamp_ownership(
                manifest,
                workload_id=self.workload_id,
                replicas=self.replicas if _identity(manifest) == primary else None,
            )
            for manifest in self.manifests.objects
        ]


class ForeignObjectError(Exception):
    """An object of the workload exists in the cluster and belongs to someone else."""


def _identity(manifest: Mapping[str, Any]) -> tuple[str, str]:
    return str(manifest.get("kind")), str((manifest.get("metadata") or {}).get("name"))


async def converge(
    driver: KubeDriver, deployment: Deployment, outcome: ClusterOutcome, *, apply: bool
) -> None:
    """Apply (when ``apply``, or when the workload object is missing) and read status back.

    Fills ``outcome`` in: its phase, ready replicas and conditions, or the error.
    """
    manifests = deployment.manifests
    try:
        if apply:
            await _apply(driver, deployment, outcome)
        try:
            status = await driver.workload_status(
                deployment.namespace, manifests.kind, manifests.name
            )
        except KubeNotFoundError:
            if outcome.applied:
                raise
            # Deleted behind Placer's back: put it back.
            await _apply(driver, deployment, outcome)
            status = await driver.workload_status(
                deployment.namespace, manifests.kind, manifests.name
            )
    except TemporaryKubeError as error:
        outcome.phase, outcome.error, outcome.retry_after = (
            Phase.UNREACHABLE,
            error.message,
            error.retry_after,
        )
        return
    except PermanentKubeError as error:
        outcome.phase, outcome.error = Phase.FAILED, error.message
        return
    except ForeignObjectError as error:
        outcome.phase, outcome.error = Phase.FAILED, str(error)
        return
    outcome.ready = status.ready_replicas
    outcome.conditions = [
        {"type": c.type, "status": c.status, "reason": c.reason, "message": c.message}
        for c in status.conditions
    ]
    match status.rollout:
        case Rollout.READY:
            outcome.phase = Phase.READY
        case Rollout.COMPLETE:
            outcome.phase = Phase.COMPLETE
        case Rollout.FAILED:
            outcome.phase = Phase.FAILED
            outcome.error = _failure_message(status.conditions) or "the rollout failed"
        case Rollout.PROGRESSING:
            outcome.phase = Phase.PROGRESSING


async def _apply(driver: KubeDriver, deployment: Deployment, outcome: ClusterOutcome) -> None:
    """Apply the workload's objects, then prune those it no longer has; marks ``applied``."""
    cluster = outcome.cluster
    objects = deployment.objects()
    owners = await driver.existing_owners(objects, namespace=deployment.namespace)
    foreign = [
        (kind, name, owner)
        for (kind, name), owner in owners.items()
        if owner != deployment.workload_id
    ]
    if foreign:
        raise ForeignObjectError(
            "; ".join(
                f"{kind} {deployment.namespace}/{name} already exists in cluster {cluster} and "
                "is not managed by this workload "
                + (f"(it belongs to workload {owner})" if owner else "(Placer did not create it)")
                for kind, name, owner in foreign
            )
        )
    await driver.ensure_namespace(deployment.namespace)
    await driver.apply(objects, namespace=deployment.namespace)
    pruned = await driver.delete_owned(
        deployment.namespace,
        deployment.workload_id,
        keep={_identity(manifest) for manifest in objects},
    )
    outcome.pruned.extend(f"{obj.kind} {obj.name}" for obj in pruned)
    outcome.applied = True


def _failure_message(conditions: Sequence[Any]) -> str | None:
    for condition in conditions:
        if condition.type in ("Progressing", "Failed") and condition.message:
            return f"{condition.reason}: {condition.message}"
    return None


async def remove(
    driver: KubeDriver, namespace: str, workload_id: str, outcome: ClusterOutcome
) -> None:
    """Ask the cluster to delete the workload's objects; ``REMOVED`` once none is left."""
    try:
        deleted = await driver.delete_owned(namespace, workload_id)
        remaining = await driver.list_owned(namespace, workload_id)
    except TemporaryKubeError as error:
        outcome.phase, outcome.error, outcome.retry_after = (
            Phase.REMOVING,
            error.message,
            error.retry_after,
        )
        return
    except PermanentKubeError as error:
        outcome.phase, outcome.error = Phase.FAILED, error.message
        return
    outcome.removed_objects = len(deleted)
    outcome.phase = Phase.REMOVING if remaining else Phase.REMOVED
