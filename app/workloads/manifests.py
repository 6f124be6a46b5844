"""The Kubernetes manifests of a workload: validation and the resources each replica requests.

A workload is one Deployment, StatefulSet or Job (its *primary* object) plus the Services,
ConfigMaps and Secrets it needs. Everything is checked before anything is stored, so a bad
manifest is refused with the index of the manifest and the path of the field, e.g.
``manifests[0].spec.template.spec.containers[1].resources.requests.cpu``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.kubetypes import (
    InvalidNameError,
    KubeSyntaxError,
    LabelError,
    LabelSelector,
    QuantityError,
    parse_resource,
    validate_dns1123_label,
    validate_dns1123_subdomain,
    validate_labels,
)

PRIMARY_KINDS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "Job": "batch/v1",
}
SUPPORTING_KINDS = {"Service": "v1", "ConfigMap": "v1", "Secret": "v1"}
REQUIRED_REQUESTS = ("cpu", "memory")
MAX_MANIFESTS = 50
SECRET_FIELDS = ("data", "stringData")


class ManifestError(KubeSyntaxError):
    """A manifest is not an object Placer can deploy; ``field`` locates the problem."""


@dataclass(frozen=True, slots=True)
class WorkloadManifests:
    """Validated manifests with what the scheduler needs to know about them.

    ``requests_per_replica`` is the pod's effective request per resource in base units (the sum
    over containers, or the largest init container where that is larger, as Kubernetes computes
    it); ``replicas`` is the Deployment's or StatefulSet's replicas, or the Job's parallelism.
    """

    kind: str
    name: str
    replicas: int
    requests_per_replica: Mapping[str, int]
    objects: tuple[Mapping[str, Any], ...]


def _located(error: KubeSyntaxError, prefix: str) -> ManifestError:
    return ManifestError(error.message, error.within(prefix).field)


def _field(index: int, path: str) -> str:
    return f"manifests[{index}].{path}" if path else f"manifests[{index}]"


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ManifestError("must be an object", field)
    return value


def _string(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise ManifestError("is required and must be a non-empty string", field)
    return value


def _check_metadata(manifest: Mapping[str, Any], index: int, kind: str, namespace: str) -> str:
    metadata = _mapping(manifest.get("metadata"), _field(index, "metadata"))
    name = _string(metadata.get("name"), _field(index, "metadata.name"))
    try:
        if kind == "Service":
            validate_dns1123_label(name)
        else:
            validate_dns1123_subdomain(name)
    except InvalidNameError as exc:
        raise ManifestError(exc.message, _field(index, "metadata.name")) from exc
    declared = metadata.get("namespace")
    if declared is not None and declared != namespace:
        raise ManifestError(
            f"is {declared!r} but the workload's namespace is {namespace!r}",
            _field(index, "metadata.namespace"),
        )
    labels = metadata.get("labels") or {}
    try:
        validate_labels(_mapping(labels, _field(index, "metadata.labels")))
    except LabelError as exc:
        raise _located(exc, _field(index, "metadata.labels")) from exc
    return name


def _check_secret_values(manifest: Mapping[str, Any], index: int) -> None:
    # Values are strings in Kubernetes; holding Placer to that also keeps a submitted value
    # from ever looking like a sealed one (see app.workloads.sealing).
    for field in SECRET_FIELDS:
        values = _mapping(manifest.get(field) or {}, _field(index, field))
        for key, value in values.items():
            if not isinstance(value, str):
                raise ManifestError("must be a string", _field(index, f"{field}.{key}"))


def _container_requests(container: Mapping[str, Any], field: str) -> dict[str, int]:
    resources = _mapping(container.get("resources") or {}, f"{field}.resources")
    requests = resources.get("requests")
    if not requests:
        raise ManifestError(
            "every container must request cpu and memory so Placer can size its placement",
            f"{field}.resources.requests",
        )
    requests = _mapping(requests, f"{field}.resources.requests")
    parsed: dict[str, int] = {}
    for resource, quantity in requests.items():
        try:
            parsed[resource] = parse_resource(resource, quantity)
        except QuantityError as exc:
            raise ManifestError(exc.message, f"{field}.resources.requests.{resource}") from exc
    for resource in REQUIRED_REQUESTS:
        if resource not in parsed:
            raise ManifestError(
                f"must request {resource}", f"{field}.resources.requests.{resource}"
            )
    limits = _mapping(resources.get("limits") or {}, f"{field}.resources.limits")
    for resource, quantity in limits.items():
        try:
            limit = parse_resource(resource, quantity)
        except QuantityError as exc:
            raise ManifestError(exc.message, f"{field}.resources.limits.{resource}") from exc
        if resource in parsed and limit < parsed[resource]:
            raise ManifestError(
                f"limit is below the request of {parsed[resource]}",
                f"{field}.resources.limits.{resource}",
            )
    return parsed


def _containers(pod_spec: Mapping[str, Any], key: str, field: str) -> list[dict[str, int]]:
    containers = pod_spec.get(key) or []
    if not isinstance(containers, list):
        raise ManifestError("must be a list", f"{field}.{key}")
    requests: list[dict[str, int]] = []
    names: set[str] = set()
    for position, raw in enumerate(containers):
        container_field = f"{field}.{key}[{position}]"
        container = _mapping(raw, container_field)
        name = _string(container.get("name"), f"{container_field}.name")
        if name in names:
            raise ManifestError(f"container name {name!r} is used twice", f"{container_field}.name")
        names.add(name)
        _string(container.get("image"), f"{container_field}.image")
        requests.append(_container_requests(container, container_field))
    return requests


def effective_pod_requests(pod_spec: Mapping[str, Any], field: str) -> dict[str, int]:
    """Return the pod's request per resource as the Kubernetes scheduler computes it."""
    containers = _containers(pod_spec, "containers", field)
    if not containers:
        raise ManifestError("a pod needs at least one container", f"{field}.containers")
    total: dict[str, int] = {}
    for requests in containers:
        for resource, amount in requests.items():
            total[resource] = total.get(resource, 0) + amount
    for requests in _containers(pod_spec, "initContainers", field):
        for resource, amount in requests.items():
            total[resource] = max(total.get(resource, 0), amount)
    return total


def _replicas(spec: Mapping[str, Any], kind: str, field: str) -> int:
    key = "parallelism" if kind == "Job" else "replicas"
    replicas = spec.get(key, 1)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise ManifestError("must be a whole number, zero or more", f"{field}.{key}")
    return replicas


def _check_selector(spec: Mapping[str, Any], template: Mapping[str, Any], field: str) -> None:
    selector_spec = _mapping(spec.get("selector"), f"{field}.selector")
    try:
        selector = LabelSelector.from_spec(selector_spec)
    except LabelError as exc:
        raise _located(exc, f"{field}.selector") from exc
    if not selector.requirements:
        raise ManifestError("must not be empty", f"{field}.selector")
    metadata = _mapping(template.get("metadata") or {}, f"{field}.template.metadata")
    labels = _mapping(metadata.get("labels") or {}, f"{field}.template.metadata.labels")
    if not selector.matches(labels):
        raise ManifestError(
            f"selector {selector} does not match the pod template's labels",
            f"{field}.selector",
        )


def _primary(manifest: Mapping[str, Any], index: int, kind: str) -> tuple[int, dict[str, int]]:
    spec = _mapping(manifest.get("spec"), _field(index, "spec"))
    template = _mapping(spec.get("template"), _field(index, "spec.template"))
    if kind != "Job":
        _check_selector(spec, template, _field(index, "spec"))
    pod_spec = _mapping(template.get("spec"), _field(index, "spec.template.spec"))
    requests = effective_pod_requests(pod_spec, _field(index, "spec.template.spec"))
    return _replicas(spec, kind, _field(index, "spec")), requests


def parse_manifests(manifests: Sequence[object], namespace: str) -> WorkloadManifests:
    """Validate a workload's manifests; raise :class:`ManifestError` naming the field."""
    if not isinstance(manifests, Sequence) or isinstance(manifests, str | bytes):
        raise ManifestError("must be a list of Kubernetes objects", "manifests")
    if len(manifests) > MAX_MANIFESTS:
        raise ManifestError(f"at most {MAX_MANIFESTS} objects are accepted", "manifests")
    primary: tuple[str, str, int, dict[str, int]] | None = None
    seen: set[tuple[str, str]] = set()
    for index, raw in enumerate(manifests):
        manifest = _mapping(raw, _field(index, ""))
        kind = _string(manifest.get("kind"), _field(index, "kind"))
        expected_version = PRIMARY_KINDS.get(kind) or SUPPORTING_KINDS.get(kind)
        if expected_version is None:
            allowed = ", ".join([*PRIMARY_KINDS, *SUPPORTING_KINDS])
            raise ManifestError(
                f"kind {kind!r} is not deployable; use one of {allowed}", _field(index, "kind")
            )
        api_version = manifest.get("apiVersion")
        if api_version != expected_version:
            raise ManifestError(
                f"must be {expected_version!r} for a {kind}", _field(index, "apiVersion")
            )
        name = _check_metadata(manifest, index, kind, namespace)
        if (kind, name) in seen:
            raise ManifestError(f"{kind} {name!r} appears twice", _field(index, "metadata.name"))
        seen.add((kind, name))
        if kind == "Secret":
            _check_secret_values(manifest, index)
        if kind in PRIMARY_KINDS:
            if primary is not None:
                raise ManifestError(
                    f"a workload has exactly one Deployment, StatefulSet or Job; "
                    f"{primary[0]} {primary[1]!r} came first",
                    _field(index, "kind"),
                )
            replicas, requests = _primary(manifest, index, kind)
            primary = (kind, name, replicas, requests)
    if primary is None:
        raise ManifestError("must contain one Deployment, StatefulSet or Job", "manifests")
    kind, name, replicas, requests = primary
    return WorkloadManifests(
        kind=kind,
        name=name,
        replicas=replicas,
        requests_per_replica=requests,
        objects=tuple(_mapping(m, "manifests") for m in manifests),
    )
