"""The marks Placer puts on what it deploys, so it can find, and only touch, its own objects.

Every object Placer applies carries ``app.kubernetes.io/managed-by: placer`` and
``placer.io/workload-id: <id>``; pod templates carry them too, so the pods of a workload can
be told apart (selectors are left alone: they are immutable in Deployments and StatefulSets).
Pure functions on manifests as JSON mappings; nothing here talks to a cluster.

    >>> stamped = stamp_ownership(deployment, workload_id="wl-42", replicas=3)
    >>> stamped["metadata"]["labels"]["placer.io/workload-id"]
    'wl-42'
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from app.kubetypes import validate_label_value

FIELD_MANAGER = "placer"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "placer"
WORKLOAD_ID_LABEL = "placer.io/workload-id"

MANAGED_KINDS: tuple[tuple[str, str], ...] = (
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("batch/v1", "Job"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
)
"""The ``(apiVersion, kind)`` pairs a workload is made of, searched when nothing else is said."""

_REPLICA_FIELD = {"Deployment": "replicas", "StatefulSet": "replicas", "Job": "parallelism"}
_POD_TEMPLATE_KINDS = frozenset({"Deployment", "StatefulSet", "Job", "DaemonSet", "ReplicaSet"})


def ownership_labels(workload_id: str) -> dict[str, str]:
    """The labels that mark an object as part of a workload Placer deployed."""
    validate_label_value(workload_id)
    return {MANAGED_BY_LABEL: MANAGED_BY, WORKLOAD_ID_LABEL: workload_id}


def ownership_selector(workload_id: str | None = None) -> str:
    """A label selector for Placer's objects: all of them, or one workload's."""
    selector = f"{MANAGED_BY_LABEL}={MANAGED_BY}"
    if workload_id is None:
        return selector
    validate_label_value(workload_id)
    return f"{selector},{WORKLOAD_ID_LABEL}={workload_id}"


def workload_id_of(manifest: Mapping[str, Any]) -> str | None:
    """The workload an object belongs to, if Placer manages it."""
    labels = (manifest.get("metadata") or {}).get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY:
        return None
    workload_id = labels.get(WORKLOAD_ID_LABEL)
    return workload_id if isinstance(workload_id, str) else None


def stamp_ownership(
    manifest: Mapping[str, Any], *, workload_id: str, replicas: int | None = None
) -> dict[str, Any]:
    """Return a copy of ``manifest`` labelled as ``workload_id``'s, with ``replicas`` if given.

    ``replicas`` sets ``spec.replicas`` of a Deployment or StatefulSet, or a Job's
    ``spec.parallelism`` (a divided placement gives each cluster its share); for any other
    kind it is a ``ValueError``.
    """
    labels = ownership_labels(workload_id)
    stamped = copy.deepcopy(dict(manifest))
    _add_labels(stamped, labels)
    kind = stamped.get("kind")
    if kind in _POD_TEMPLATE_KINDS:
        template = (stamped.get("spec") or {}).get("template")
        if isinstance(template, dict):
            _add_labels(template, labels)
    if replicas is not None:
        field = _REPLICA_FIELD.get(str(kind))
        if field is None:
            raise ValueError(f"kind {kind} has no replicas to set")
        if replicas < 0:
            raise ValueError("replicas must be zero or more")
        stamped.setdefault("spec", {})[field] = replicas
    return stamped


def _add_labels(target: dict[str, Any], labels: Mapping[str, str]) -> None:
    metadata = target.setdefault("metadata", {})
    metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
