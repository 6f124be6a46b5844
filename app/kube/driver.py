"""The async face of one member cluster: apply, find, delete, and read status and inventory.

Each method runs its blocking ``kubernetes`` client calls in a worker thread of a bounded
executor shared by every cluster's driver, so the event loop never waits on a cluster and a
slow cluster cannot take all threads of the process. Every failure is a
:class:`~app.kube.errors.KubeError`.

Deletion uses ``propagationPolicy: Foreground``: an object stays visible (``deleting=True``
from :meth:`KubeDriver.list_owned`) until the garbage collector has removed what it owns, so
"nothing owned is listed" means the workload's pods are really gone and their capacity free,
which is what a migration and the inventory need to know.

    >>> driver = pool.driver(cluster.id, credentials)
    >>> await driver.ensure_namespace("shop")
    >>> await driver.apply([stamp_ownership(m, workload_id="wl-42") for m in manifests])
    >>> (await driver.workload_status("shop", "Deployment", "web")).rollout
    <Rollout.READY: 'Ready'>
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, TypeVar

from kubernetes.client import ApiClient

from app.kube.api import ClusterApi, Object
from app.kube.errors import (
    KubeInvalidError,
    KubeNotFoundError,
    KubeServerError,
    PermanentKubeError,
)
from app.kube.inventory import ACTIVE_BOUND_PODS, NodeInfo, node_info, requests_by_node
from app.kube.ownership import FIELD_MANAGER, MANAGED_KINDS, ownership_selector, workload_id_of
from app.kube.status import WORKLOAD_KINDS, WorkloadStatus, workload_status

DELETE_PROPAGATION = "Foreground"

# Objects others depend on go first, so pods do not start before their ConfigMaps exist.
_APPLY_ORDER = {
    kind: position
    for position, kind in enumerate(
        (
            "Namespace",
            "ResourceQuota",
            "LimitRange",
            "ServiceAccount",
            "Secret",
            "ConfigMap",
            "PersistentVolumeClaim",
            "Role",
            "RoleBinding",
            "Service",
            "Deployment",
            "StatefulSet",
            "Job",
        )
    )
}
_FAILED_CHECK = re.compile(r"\[-\](\S+) failed")
# Metadata only: reading who owns a Secret must not fetch its values. The plain JSON fallback
# serves an API server that cannot answer in this form (its metadata is read the same way).
_METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json"

_Result = TypeVar("_Result")


@dataclass(frozen=True, slots=True)
class Readiness:
    """The answer of the API server's ``/readyz``; ``detail`` names failed checks."""

    ready: bool
    detail: str


@dataclass(frozen=True, slots=True)
class OwnedObject:
    """An object Placer applied for a workload, as the cluster has it now."""

    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str
    workload_id: str
    deleting: bool


class KubeDriver:
    """Placer's operations on one cluster; get one from :class:`~app.kube.pool.KubeClientPool`."""

    def __init__(self, api_client: ApiClient, executor: Executor) -> None:
        self._api = ClusterApi(api_client)
        self._executor = executor

    async def _run(self, function: Callable[..., _Result], *args: Any) -> _Result:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args))

    async def readyz(self) -> Readiness:
        """Ask ``/readyz``; unreachable servers and refused credentials raise instead."""
        return await self._run(self._readyz)

    def _readyz(self) -> Readiness:
        try:
            body = self._api.request("GET", "/readyz", accept="text/plain")
        except KubeServerError as error:
            if error.status not in (500, 503):
                raise
            failed = _FAILED_CHECK.findall(error.message)
            detail = f"failed checks: {', '.join(failed)}" if failed else error.message
            return Readiness(ready=False, detail=detail)
        return Readiness(ready=True, detail=body.decode(errors="replace").strip())

    async def ensure_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        """Create the namespace if missing and apply ``labels`` to it (other labels stay)."""
        manifest = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": dict(labels or {})},
        }
        await self._run(
            functools.partial(self._api.apply, manifest, field_manager=FIELD_MANAGER, force=True)
        )

    async def apply(
        self,
        objects: Iterable[Mapping[str, Any]],
        *,
        namespace: str | None = None,
        field_manager: str = FIELD_MANAGER,
        force: bool = True,
    ) -> list[Object]:
        """Server-side apply every object (namespaces and configuration before workloads).

        Namespaced objects without ``metadata.namespace`` go to ``namespace``. ``force`` takes
        over fields another manager set, as a controller must; without it such a field is a
        :class:`~app.kube.errors.KubeConflictError`. Returns the objects as applied.
        """
        ordered = sorted(
            objects, key=lambda manifest: _APPLY_ORDER.get(str(manifest.get("kind")), 99)
        )
        return await self._run(self._apply_all, ordered, namespace, field_manager, force)

    def _apply_all(
        self,
        objects: Sequence[Mapping[str, Any]],
        namespace: str | None,
        field_manager: str,
        force: bool,
    ) -> list[Object]:
        return [
            self._api.apply(manifest, field_manager=field_manager, force=force, namespace=namespace)
            for manifest in objects
        ]

    async def existing_owners(
        self, objects: Iterable[Mapping[str, Any]], *, namespace: str
    ) -> dict[tuple[str, str], str | None]:
        """Which of ``objects`` already exist in the cluster, and whose they are.

        Keys are ``(kind, name)`` of the objects found; values are the workload id of their
        ownership labels, or ``None`` for an object Placer does not manage. Objects not in the
        cluster are left out. One metadata-only GET per object; namespaced objects without
        ``metadata.namespace`` are looked for in ``namespace``.
        """
        return await self._run(self._existing_owners, list(objects), namespace)

    def _existing_owners(
        self, objects: Sequence[Mapping[str, Any]], namespace: str
    ) -> dict[tuple[str, str], str | None]:
        owners: dict[tuple[str, str], str | None] = {}
        for manifest in objects:
            kind = manifest.get("kind")
            resource = self._api.resource_type(str(manifest.get("apiVersion")), kind)
            metadata = manifest.get("metadata") or {}
            name = str(metadata.get("name"))
            object_namespace = (
                (metadata.get("namespace") or namespace) if resource.namespaced else None
            )
            try:
                body = self._api.request(
                    "GET", resource.object_path(name, object_namespace), accept=_METADATA_ONLY
                )
            except KubeNotFoundError:
                continue
            try:
                found = json.loads(body)
            except ValueError as error:
                raise PermanentKubeError(f"the server's answer is not JSON: {error}") from None
            owners[(resource.kind, name)] = (
                workload_id_of(found) if isinstance(found, dict) else None
            )
        return owners

    async def list_owned(
        self,
        namespace: str,
        workload_id: str | None = None,
        *,
        kinds: Iterable[tuple[str, str]] = MANAGED_KINDS,
    ) -> list[OwnedObject]:
        """Objects Placer applied in ``namespace``, for one workload or all of them.

        ``kinds`` are the ``(apiVersion, kind)`` pairs searched; kinds the cluster does not
        serve are skipped. Objects a controller created (ReplicaSets, Pods) are not listed even
        though they carry the workload's labels through the pod template.
        """
        return await self._run(self._list_owned, namespace, workload_id, tuple(kinds))

    def _list_owned(
        self, namespace: str, workload_id: str | None, kinds: tuple[tuple[str, str], ...]
    ) -> list[OwnedObject]:
        selector = ownership_selector(workload_id)
        owned: list[OwnedObject] = []
        for api_version, kind in kinds:
            try:
                resource = self._api.resource_type(api_version, kind)
            except KubeInvalidError:
                continue
            for obj in self._api.list_objects(resource, namespace, label_selector=selector):
                metadata = obj.get("metadata") or {}
                if any(ref.get("controller") for ref in metadata.get("ownerReferences") or ()):
                    continue
                owned.append(
                    OwnedObject(
                        api_version=api_version,
                        kind=kind,
                        namespace=metadata.get("namespace", namespace),
                        name=metadata.get("name", ""),
                        uid=metadata.get("uid", ""),
                        workload_id=workload_id_of(obj) or "",
                        deleting=metadata.get("deletionTimestamp") is not None,
                    )
                )
        return owned

    async def delete_owned(
        self,
        namespace: str,
        workload_id: str,
        *,
        kinds: Iterable[tuple[str, str]] = MANAGED_KINDS,
        keep: Iterable[tuple[str, str]] = (),
    ) -> list[OwnedObject]:
        """Ask the cluster to delete every object of the workload but those ``keep`` names as
        ``(kind, name)``; returns those it was asked to delete.

        Deletion finishes asynchronously (see the module notes): it is complete when
        :meth:`list_owned` no longer lists the object.
        """
        return await self._run(
            self._delete_owned, namespace, workload_id, tuple(kinds), frozenset(keep)
        )

    def _delete_owned(
        self,
        namespace: str,
        workload_id: str,
        kinds: tuple[tuple[str, str], ...],
        keep: frozenset[tuple[str, str]],
    ) -> list[OwnedObject]:
        deleted: list[OwnedObject] = []
        for obj in self._list_owned(namespace, workload_id, kinds):
            if obj.deleting or (obj.kind, obj.name) in keep:
                continue
            resource = self._api.resource_type(obj.api_version, obj.kind)
            if self._api.delete(resource, obj.name, obj.namespace, DELETE_PROPAGATION):
                deleted.append(obj)
        return deleted

    async def workload_status(self, namespace: str, kind: str, name: str) -> WorkloadStatus:
        """Replica counts, conditions and rollout of a Deployment, StatefulSet or Job."""
        if kind not in WORKLOAD_KINDS:
            raise ValueError(f"status of kind {kind} is not read; use one of {set(WORKLOAD_KINDS)}")
        return await self._run(self._workload_status, namespace, kind, name)

    def _workload_status(self, namespace: str, kind: str, name: str) -> WorkloadStatus:
        resource = self._api.resource_type(WORKLOAD_KINDS[kind], kind)
        return workload_status(kind, self._api.get(resource.object_path(name, namespace)))

    async def read_nodes(self) -> list[NodeInfo]:
        """Every Node with its allocatable resources, topology labels and readiness."""
        return await self._run(self._read_nodes)

    def _read_nodes(self) -> list[NodeInfo]:
        return [
            node_info(node)
            for node in self._api.list_objects(self._api.resource_type("v1", "Node"))
        ]

    async def pod_requests_in_use(
        self, *, label_selector: str | None = None
    ) -> dict[str, dict[str, int]]:
        """Per node, the resources requested by pods bound to it that have not finished.

        ``label_selector`` narrows the pods counted, e.g. to those Placer does not manage.
        """
        return await self._run(self._pod_requests_in_use, label_selector)

    def _pod_requests_in_use(self, label_selector: str | None) -> dict[str, dict[str, int]]:
        pods = self._api.list_objects(
            self._api.resource_type("v1", "Pod"),
            label_selector=label_selector,
            field_selector=ACTIVE_BOUND_PODS,
        )
        return requests_by_node(pods)
