"""Simulated kubelets and a minimal scheduler for one test cluster, working through its API.

Run as ``python -m tests.support.kubefleet.nodesim --kubeconfig K --nodes nodes.json
--region R``. It creates the Nodes described in nodes.json and marks them Ready, then keeps
the cluster's pods moving the way a scheduler and kubelets would:

- a pending pod with no node is bound to a Ready, schedulable Node whose labels, taints and
  allocatable cpu, memory and pod count admit it (the least allocated one), or gets the
  condition ``PodScheduled=False`` with a kube-scheduler style reason;
- a pod bound to a simulated Node becomes Running and Ready at once;
- a pod that does not restart (restartPolicy Never or OnFailure, as Jobs' pods) and carries the
  annotation ``placer.dev/simulated-run-seconds`` exits that many seconds after it started,
  with the code in ``placer.dev/simulated-exit-code`` (default 0): phase Succeeded or Failed;
- a pod being deleted from a simulated Node is removed with grace period 0, as a kubelet
  does once its containers have stopped.

Nodes labelled ``placer.dev/simulated-node=true`` are simulated, including ones a test adds;
one without a Ready condition is made Ready, one a test marked ``Ready=False`` stays so and
gets no new pods.
The loop is level-triggered: any watch event, or a timer, triggers a full pass over the
cluster, and it rides out an unreachable apiserver by retrying.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.support.kubefleet.build import KUBERNETES_VERSION
from tests.support.kubefleet.objects import quantity

SIMULATED_NODE_LABEL = "placer.dev/simulated-node"
RUN_SECONDS_ANNOTATION = "placer.dev/simulated-run-seconds"
EXIT_CODE_ANNOTATION = "placer.dev/simulated-exit-code"
REGION_LABEL = "topology.kubernetes.io/region"
ZONE_LABEL = "topology.kubernetes.io/zone"
_MERGE_PATCH = "application/merge-patch+json"
_RESYNC_SECONDS = 5.0
_NOT_READY_TAINT = "node.kubernetes.io/not-ready"
_SCHEDULER_NAME = "default-scheduler"

Json = dict[str, Any]
logger = logging.getLogger("node-simulator")


@dataclass
class _NodeUsage:
    allocatable_cpu: Decimal
    allocatable_memory: Decimal
    allocatable_pods: int
    cpu: Decimal = Decimal(0)
    memory: Decimal = Decimal(0)
    pods: int = 0

    def shortfalls(self, cpu: Decimal, memory: Decimal) -> list[str]:
        reasons = []
        if self.pods + 1 > self.allocatable_pods:
            reasons.append("Too many pods")
        if self.cpu + cpu > self.allocatable_cpu:
            reasons.append("Insufficient cpu")
        if self.memory + memory > self.allocatable_memory:
            reasons.append("Insufficient memory")
        return reasons

    def load_after(self, cpu: Decimal, memory: Decimal) -> Decimal:
        return max(
            (self.cpu + cpu) / max(self.allocatable_cpu, Decimal(1)),
            (self.memory + memory) / max(self.allocatable_memory, Decimal(1)),
        )


@dataclass
class NodeSimulator:
    """Keeps one cluster's simulated Nodes Ready and its pods scheduled, running and deleted."""

    core: client.CoreV1Api
    node_specs: list[Json]
    region: str
    changed: threading.Event = field(default_factory=threading.Event)
    next_exit: float = float("inf")

    def create_nodes(self) -> None:
        for spec in self.node_specs:
            node = client.V1Node(
                metadata=client.V1ObjectMeta(
                    name=spec["name"],
                    labels={
                        "kubernetes.io/hostname": spec["name"],
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        REGION_LABEL: self.region,
                        ZONE_LABEL: spec["zone"],
                        "node.kubernetes.io/instance-type": spec["instance_type"],
                        SIMULATED_NODE_LABEL: "true",
                    },
                )
            )
            try:
                self.core.create_node(node, _preload_content=False)
            except ApiException as error:
                if error.status != 409:
                    raise
                continue
            self._mark_node_ready(spec["name"], self._declared_allocatable(spec["name"]))
            logger.info("created node %s in %s", spec["name"], spec["zone"])

    def run_forever(self) -> None:
        for watched in (self.core.list_node, self.core.list_pod_for_all_namespaces):
            threading.Thread(target=self._watch, args=(watched,), daemon=True).start()
        while True:
            self.changed.wait(min(_RESYNC_SECONDS, max(0.0, self.next_exit - time.time())))
            self.changed.clear()
            try:
                self.reconcile()
            except Exception:
                logger.exception("pass failed; retrying")
                time.sleep(1.0)
                self.changed.set()

    def reconcile(self) -> None:
        nodes = {
            node["metadata"]["name"]: node
            for node in _items(
                self.core.list_node(
                    label_selector=f"{SIMULATED_NODE_LABEL}=true", _preload_content=False
                )
            )
        }
        for name, node in nodes.items():
            # Only a Node that never reported is made Ready: a test may set Ready=False.
            if _condition(node, "Ready") is None:
                reported = node.get("status", {}).get("allocatable") or {}
                self._mark_node_ready(name, reported or self._declared_allocatable(name))
            self._lift_not_ready_taint(node)
        pods = sorted(
            _items(self.core.list_pod_for_all_namespaces(_preload_content=False)),
            key=lambda pod: (pod["metadata"]["creationTimestamp"], pod["metadata"]["name"]),
        )
        usage = {name: _usage(node) for name, node in nodes.items()}
        for pod in pods:
            node_name = pod["spec"].get("nodeName")
            if node_name in usage and _holds_resources(pod):
                cpu, memory = _requests(pod)
                usage[node_name].cpu += cpu
                usage[node_name].memory += memory
                usage[node_name].pods += 1
        self.next_exit = float("inf")
        for pod in pods:
            metadata, node_name = pod["metadata"], pod["spec"].get("nodeName")
            phase = pod.get("status", {}).get("phase", "Pending")
            if metadata.get("deletionTimestamp"):
                if node_name in nodes:
                    self._remove(pod)
            elif not node_name:
                if pod["spec"].get("schedulerName", _SCHEDULER_NAME) == _SCHEDULER_NAME:
                    self._schedule(pod, nodes, usage)
            elif node_name not in nodes:
                continue
            elif phase == "Pending":
                self._start(pod)
            elif phase == "Running":
                exit_at = _planned_exit(pod)
                if exit_at is not None and exit_at <= time.time():
                    self._exit(pod)
                elif exit_at is not None:
                    self.next_exit = min(self.next_exit, exit_at)

    def _schedule(self, pod: Json, nodes: dict[str, Json], usage: dict[str, _NodeUsage]) -> None:
        cpu, memory = _requests(pod)
        reasons: Counter[str] = Counter()
        feasible: list[str] = []
        for name, node in nodes.items():
            refusal = _placement_refusal(pod, node)
            if refusal:
                reasons[refusal] += 1
                continue
            shortfalls = usage[name].shortfalls(cpu, memory)
            reasons.update(shortfalls)
            if not shortfalls:
                feasible.append(name)
        if not feasible:
            self._mark_unschedulable(pod, len(nodes), reasons)
            return
        chosen = min(feasible, key=lambda name: (usage[name].load_after(cpu, memory), name))
        binding = client.V1Binding(
            metadata=client.V1ObjectMeta(name=pod["metadata"]["name"], uid=pod["metadata"]["uid"]),
            target=client.V1ObjectReference(api_version="v1", kind="Node", name=chosen),
        )
        try:
            self.core.create_namespaced_pod_binding(
                pod["metadata"]["name"],
                pod["metadata"]["namespace"],
                binding,
                _preload_content=False,
            )
        except ApiException as error:
            if error.status in (404, 409):
                return  # deleted or bound meanwhile; the next pass sees the new state
            if error.status == 403 and "NamespaceTerminating" in str(error.body):
                return  # its namespace is going away; binding it would only fail again
            raise
        usage[chosen].cpu += cpu
        usage[chosen].memory += memory
        usage[chosen].pods += 1

    def _mark_unschedulable(self, pod: Json, node_count: int, reasons: Counter[str]) -> None:
        detail = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
        message = f"0/{node_count} nodes are available: {detail or 'no nodes'}."
        current = _condition(pod, "PodScheduled")
        if current and current.get("message") == message:
            return
        condition = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastTransitionTime": _now(),
        }
        self._patch_pod_status(pod, {"status": {"conditions": [condition]}})

    def _start(self, pod: Json) -> None:
        now = _now()
        ip = _pod_ip(pod["metadata"]["uid"])
        conditions = [
            {"type": kind, "status": "True", "lastTransitionTime": now}
            for kind in (
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled",
            )
        ]
        status = {
            "phase": "Running",
            "conditions": conditions,
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": now,
            "initContainerStatuses": [
                _container_status(
                    pod,
                    container,
                    {
                        "terminated": {
                            "exitCode": 0,
                            "reason": "Completed",
                            "startedAt": now,
                            "finishedAt": now,
                        }
                    },
                    ready=True,
                )
                for container in pod["spec"].get("initContainers", [])
            ],
            "containerStatuses": [
                _container_status(pod, container, {"running": {"startedAt": now}}, ready=True)
                for container in pod["spec"]["containers"]
            ],
        }
        self._patch_pod_status(pod, {"status": status})

    def _exit(self, pod: Json) -> None:
        annotations = pod["metadata"].get("annotations") or {}
        code = int(annotations.get(EXIT_CODE_ANNOTATION, "0"))
        now = _now()
        started = pod["status"].get("startTime", now)
        terminated = {
            "terminated": {
                "exitCode": code,
                "reason": "Completed" if code == 0 else "Error",
                "startedAt": started,
                "finishedAt": now,
            }
        }
        conditions = [
            {"type": kind, "status": status, "lastTransitionTime": now}
            for kind, status in (
                ("PodReadyToStartContainers", "False"),
                ("Initialized", "True"),
                ("Ready", "False"),
                ("ContainersReady", "False"),
                ("PodScheduled", "True"),
            )
        ]
        status = {
            "phase": "Succeeded" if code == 0 else "Failed",
            "conditions": conditions,
            "containerStatuses": [
                _container_status(pod, container, terminated, ready=False)
                for container in pod["spec"]["containers"]
            ],
        }
        self._patch_pod_status(pod, {"status": status})

    def _remove(self, pod: Json) -> None:
        try:
            self.core.delete_namespaced_pod(
                pod["metadata"]["name"],
                pod["metadata"]["namespace"],
                body=client.V1DeleteOptions(
                    grace_period_seconds=0,
                    preconditions=client.V1Preconditions(uid=pod["metadata"]["uid"]),
                ),
                grace_period_seconds=0,
                _preload_content=False,
            )
        except ApiException as error:
            if error.status not in (404, 409):
                raise

    def _patch_pod_status(self, pod: Json, patch: Json) -> None:
        try:
            self.core.patch_namespaced_pod_status(
                pod["metadata"]["name"],
                pod["metadata"]["namespace"],
                patch,
                _content_type=_MERGE_PATCH,
                _preload_content=False,
            )
        except ApiException as error:
            if error.status != 404:
                raise

    def _mark_node_ready(self, name: str, allocatable: dict[str, str]) -> None:
        now = _now()
        conditions = [
            {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": reason,
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
            for kind, status, reason in (
                ("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                ("PIDPressure", "False", "KubeletHasSufficientPID"),
                ("Ready", "True", "KubeletReady"),
            )
        ]
        status = {
            "capacity": allocatable,
            "allocatable": allocatable,
            "conditions": conditions,
            "nodeInfo": {
                "machineID": name,
                "systemUUID": name,
                "bootID": name,
                "kernelVersion": "simulated",
                "osImage": "simulated",
                "containerRuntimeVersion": "simulated://1",
                "kubeletVersion": KUBERNETES_VERSION,
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        }
        self.core.patch_node_status(
            name, {"status": status}, _content_type=_MERGE_PATCH, _preload_content=False
        )

    def _declared_allocatable(self, name: str) -> dict[str, str]:
        for spec in self.node_specs:
            if spec["name"] == name:
                return {"cpu": spec["cpu"], "memory": spec["memory"], "pods": str(spec["pods"])}
        return {}

    def _lift_not_ready_taint(self, node: Json) -> None:
        # The TaintNodesByCondition admission plugin taints every new Node not-ready; the
        # node-lifecycle controller, which would lift it, is off.
        taints = node.get("spec", {}).get("taints") or []
        kept = [taint for taint in taints if taint.get("key") != _NOT_READY_TAINT]
        if len(kept) == len(taints):
            return
        node["spec"]["taints"] = kept
        self.core.patch_node(
            node["metadata"]["name"],
            {"spec": {"taints": kept or None}},
            _content_type=_MERGE_PATCH,
            _preload_content=False,
        )

    def _watch(self, list_call: Callable[..., Any]) -> None:
        while True:
            try:
                response = list_call(
                    watch=True,
                    timeout_seconds=240,
                    _preload_content=False,
                    _request_timeout=(5, 300),
                )
                for _event in response:
                    self.changed.set()
            except Exception as error:  # an unreachable apiserver is expected
                logger.debug("watch interrupted: %s", error)
                time.sleep(1.0)
            self.changed.set()


def _items(response: Any) -> list[Json]:
    return list(json.loads(response.data)["items"])


def _condition(obj: Json, kind: str) -> Json | None:
    for condition in obj.get("status", {}).get("conditions") or []:
        if condition.get("type") == kind:
            return dict(condition)
    return None


def _condition_true(obj: Json, kind: str) -> bool:
    condition = _condition(obj, kind)
    return condition is not None and condition.get("status") == "True"


def _usage(node: Json) -> _NodeUsage:
    allocatable = node.get("status", {}).get("allocatable") or {}
    return _NodeUsage(
        allocatable_cpu=quantity(allocatable.get("cpu", "0")),
        allocatable_memory=quantity(allocatable.get("memory", "0")),
        allocatable_pods=int(quantity(allocatable.get("pods", "0"))),
    )


def _holds_resources(pod: Json) -> bool:
    return pod.get("status", {}).get("phase") not in ("Succeeded", "Failed")


def _requests(pod: Json) -> tuple[Decimal, Decimal]:
    """Effective requests as kube-scheduler counts them: the larger of the containers' sum
    and the largest init container."""

    def request(container: Json, resource: str) -> Decimal:
        requests = (container.get("resources") or {}).get("requests") or {}
        return quantity(requests[resource]) if resource in requests else Decimal(0)

    containers = pod["spec"]["containers"]
    init = pod["spec"].get("initContainers", [])
    cpu = max(
        [sum((request(c, "cpu") for c in containers), Decimal(0))]
        + [request(c, "cpu") for c in init]
    )
    memory = max(
        [sum((request(c, "memory") for c in containers), Decimal(0))]
        + [request(c, "memory") for c in init]
    )
    return cpu, memory


def _placement_refusal(pod: Json, node: Json) -> str | None:
    """Why the pod may not go to the node regardless of resources, or None if it may."""
    if not _condition_true(node, "Ready"):
        return "node(s) were not ready"
    if node.get("spec", {}).get("unschedulable"):
        return "node(s) were unschedulable"
    tolerations = pod["spec"].get("tolerations") or []
    for taint in node.get("spec", {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not any(
            _tolerates(toleration, taint) for toleration in tolerations
        ):
            return "node(s) had untolerated taint"
    labels = node["metadata"].get("labels") or {}
    selector = pod["spec"].get("nodeSelector") or {}
    if any(labels.get(key) != value for key, value in selector.items()):
        return "node(s) didn't match Pod's node affinity/selector"
    required = ((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if required and not any(
        _term_matches(term, labels, node["metadata"]["name"])
        for term in required.get("nodeSelectorTerms", [])
    ):
        return "node(s) didn't match Pod's node affinity/selector"
    return None


def _tolerates(toleration: Json, taint: Json) -> bool:
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("operator", "Equal") == "Exists":
        return not toleration.get("key") or toleration["key"] == taint.get("key")
    return bool(
        toleration.get("key") == taint.get("key")
        and toleration.get("value", "") == taint.get("value", "")
    )


def _term_matches(term: Json, labels: dict[str, str], node_name: str) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False  # an empty term matches no objects
    return all(_requirement_holds(e, labels) for e in expressions) and all(
        _requirement_holds(f, {"metadata.name": node_name}) for f in fields
    )


def _requirement_holds(requirement: Json, values: dict[str, str]) -> bool:
    key, operator = requirement["key"], requirement["operator"]
    wanted = requirement.get("values") or []
    present = key in values
    if operator == "In":
        return present and values[key] in wanted
    if operator == "NotIn":
        return not present or values[key] not in wanted
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and values[key].lstrip("-").isdigit():
        actual, bound = int(values[key]), int(wanted[0])
        return actual > bound if operator == "Gt" else actual < bound
    return False


def _planned_exit(pod: Json) -> float | None:
    """When a pod that does not restart should exit (epoch seconds), if it is told to."""
    annotations = pod["metadata"].get("annotations") or {}
    run_seconds = annotations.get(RUN_SECONDS_ANNOTATION)
    started = pod.get("status", {}).get("startTime")
    if run_seconds is None or started is None or pod["spec"].get("restartPolicy") == "Always":
        return None
    start = datetime.datetime.strptime(started, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    return start.timestamp() + float(run_seconds)


def _container_status(pod: Json, container: Json, state: Json, *, ready: bool) -> Json:
    return {
        "name": container["name"],
        "image": container.get("image", ""),
        "imageID": "",
        "containerID": f"simulated://{pod['metadata']['uid']}/{container['name']}",
        "ready": ready,
        "started": "running" in state,
        "restartCount": 0,
        "state": state,
    }


def _pod_ip(uid: str) -> str:
    # A stable, fictitious address: nothing ever sends traffic to it.
    digest = hashlib.sha256(uid.encode()).digest()
    return f"10.244.{digest[0]}.{max(digest[1], 1)}"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--nodes", type=Path, required=True, help="JSON list of NodeSpec")
    parser.add_argument("--region", required=True)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    api = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(arguments.kubeconfig)
    )
    simulator = NodeSimulator(
        core=client.CoreV1Api(api),
        node_specs=json.loads(arguments.nodes.read_text()),
        region=arguments.region,
    )
    while True:
        try:
            simulator.create_nodes()
            break
        except Exception as error:  # the apiserver may still be starting
            logger.warning("cannot create nodes yet: %s", error)
            time.sleep(1.0)
    simulator.run_forever()


if __name__ == "__main__":
    main()
