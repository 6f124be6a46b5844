"""Typed access to the fields of Kubernetes objects that tests read.

The official client types every field as optional; these helpers say once what an absent
field means instead of every caller checking for None.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from kubernetes import client
from kubernetes.utils.quantity import parse_quantity


class _Condition(Protocol):
    type: str
    status: str


class _HasMetadata(Protocol):
    @property
    def metadata(self) -> client.V1ObjectMeta | None: ...


def quantity(text: str) -> Decimal:
    """A Kubernetes quantity ("250m", "14Gi") as an exact number."""
    value: Decimal = parse_quantity(text)  # type: ignore[no-untyped-call]
    return value


def name_of(obj: _HasMetadata) -> str:
    return obj.metadata.name or "" if obj.metadata else ""


def labels_of(obj: _HasMetadata) -> dict[str, str]:
    return dict(obj.metadata.labels or {}) if obj.metadata else {}


def condition_true(conditions: Sequence[_Condition] | None, kind: str) -> bool:
    return any(c.type == kind and c.status == "True" for c in conditions or ())


def node_ready(node: client.V1Node) -> bool:
    return node.status is not None and condition_true(node.status.conditions, "Ready")


def pod_running_and_ready(pod: client.V1Pod) -> bool:
    status = pod.status
    return (
        status is not None
        and status.phase == "Running"
        and condition_true(status.conditions, "Ready")
    )


def pod_node(pod: client.V1Pod) -> str | None:
    return pod.spec.node_name if pod.spec else None


def allocatable_of(node: client.V1Node) -> dict[str, str]:
    return dict(node.status.allocatable or {}) if node.status else {}
