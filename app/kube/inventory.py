"""What a cluster has and what it uses, read from its Nodes and Pods as the scheduler reads them.

Amounts are integers in Placer's base units (:func:`app.kubetypes.parse_resource`): millicores
of ``cpu``, bytes of ``memory``, counts of ``pods`` and ``nvidia.com/gpu``. A quantity finer
than its unit (a ``memory`` request of ``100m``, which the API server accepts) is rounded
up when it is used and down when it is available, so Placer never overstates free capacity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.kubetypes import QuantityError, Taint, parse_quantity, parse_resource

TRACKED_RESOURCES = ("cpu", "memory", "pods", "nvidia.com/gpu")
REGION_LABEL = "topology.kubernetes.io/region"
ZONE_LABEL = "topology.kubernetes.io/zone"
_POD_LEVEL_RESOURCES = ("cpu", "memory")
TERMINAL_POD_PHASES = frozenset({"Succeeded", "Failed"})
# Pods that hold resources on a node: bound to one and not finished.
ACTIVE_BOUND_PODS = "spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed"


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """One Node: what it can hold, where it is, and whether new pods can land on it."""

    name: str
    labels: Mapping[str, str]
    allocatable: Mapping[str, int]
    ready: bool
    schedulable: bool
    taints: tuple[Taint, ...] = field(default=())

    @property
    def region(self) -> str | None:
        return self.labels.get(REGION_LABEL)

    @property
    def zone(self) -> str | None:
        return self.labels.get(ZONE_LABEL)


def node_info(node: Mapping[str, Any]) -> NodeInfo:
    """Read a Node object (JSON) into a :class:`NodeInfo`."""
    metadata = node.get("metadata") or {}
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    allocatable = status.get("allocatable") or {}
    ready = any(
        condition.get("type") == "Ready" and condition.get("status") == "True"
        for condition in status.get("conditions") or ()
    )
    return NodeInfo(
        name=metadata.get("name", ""),
        labels=dict(metadata.get("labels") or {}),
        allocatable={
            resource: _amount(resource, allocatable.get(resource, 0), math.floor)
            for resource in TRACKED_RESOURCES
        },
        ready=ready,
        schedulable=not spec.get("unschedulable", False),
        taints=tuple(
            Taint.from_spec({key: taint[key] for key in ("key", "value", "effect") if key in taint})
            for taint in spec.get("taints") or ()
        ),
    )


def pod_requests(pod: Mapping[str, Any]) -> dict[str, int]:
    """What a pod holds on its node, computed as the scheduler does, plus one ``pods`` slot.

    The sum over containers and sidecars (init containers that keep running), or the largest
    init container with the sidecars started before it if that is larger; then the pod's
    overhead. Pod-level ``resources.requests`` replace the containers' for the resources they
    name.
    """
    spec = pod.get("spec") or {}
    total: dict[str, int] = {}
    sidecars: dict[str, int] = {}
    largest_init: dict[str, int] = {}
    for container in spec.get("initContainers") or ():
        requests = _requests(container)
        if container.get("restartPolicy") == "Always":
            _add(sidecars, requests)
            _add(total, requests)
            continue
        running = dict(sidecars)
        _add(running, requests)
        _maximize(largest_init, running)
    for container in spec.get("containers") or ():
        _add(total, _requests(container))
    _maximize(total, largest_init)
    pod_level = (spec.get("resources") or {}).get("requests") or {}
    for resource in _POD_LEVEL_RESOURCES:
        if resource in pod_level:
            total[resource] = _amount(resource, pod_level[resource], math.ceil)
    _add(total, _parsed(spec.get("overhead") or {}))
    total["pods"] = 1
    return {resource: total.get(resource, 0) for resource in TRACKED_RESOURCES}


def requests_by_node(pods: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Sum :func:`pod_requests` per node over pods that are bound and not finished."""
    usage: dict[str, dict[str, int]] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or (pod.get("status") or {}).get("phase") in TERMINAL_POD_PHASES:
            continue
        _add(usage.setdefault(node, dict.fromkeys(TRACKED_RESOURCES, 0)), pod_requests(pod))
    return usage


def _requests(container: Mapping[str, Any]) -> dict[str, int]:
    return _parsed((container.get("resources") or {}).get("requests") or {})


def _parsed(quantities: Mapping[str, Any]) -> dict[str, int]:
    return {
        resource: _amount(resource, quantities[resource], math.ceil)
        for resource in TRACKED_RESOURCES
        if resource in quantities
    }


def _amount(resource: str, value: Any, rounding: Callable[[Decimal], int]) -> int:
    try:
        return parse_resource(resource, value)
    except QuantityError:
        unit = parse_resource(resource, 1)
        return rounding(parse_quantity(value) * unit)


def _add(into: dict[str, int], amounts: Mapping[str, int]) -> None:
    for resource, amount in amounts.items():
        into[resource] = into.get(resource, 0) + amount


def _maximize(into: dict[str, int], amounts: Mapping[str, int]) -> None:
    for resource, amount in amounts.items():
        into[resource] = max(into.get(resource, 0), amount)
