"""Blocking JSON calls to one cluster's API server, and the kinds it serves.

Objects travel as plain JSON mappings rather than the client's generated models, so any kind,
including custom resources, is handled the same way. Every failure is raised as a
:class:`~app.kube.errors.KubeError`. Methods block: :class:`~app.kube.driver.KubeDriver` runs
them in worker threads.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import urllib3.exceptions
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from app.kube.errors import (
    KubeInvalidError,
    KubeNotFoundError,
    PermanentKubeError,
    kube_error,
)

JSON = "application/json"
APPLY_PATCH = "application/apply-patch+yaml"
LIST_PAGE_SIZE = 500

Object = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A kind as the API server serves it: where its objects live and whether per namespace."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def collection_path(self, namespace: str | None = None) -> str:
        """``/apis/apps/v1/namespaces/web/deployments``; all namespaces when ``None``."""
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace is not None:
            return f"{base}/namespaces/{quote(namespace, safe='')}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_path(self, name: str, namespace: str | None) -> str:
        """The path of one object; ``namespace`` is required for namespaced kinds."""
        return f"{self.collection_path(namespace)}/{quote(name, safe='')}"


class ClusterApi:
    """JSON requests over one ``ApiClient``; safe to share between threads."""

    def __init__(self, api_client: ApiClient) -> None:
        self._api = api_client
        self._kinds: dict[str, dict[str, ResourceType]] = {}
        self._kinds_lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Mapping[str, Any] | None = None,
        content_type: str = JSON,
        accept: str = JSON,
    ) -> bytes:
        """Send one request and return the body of its 2xx answer."""
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            serialized = self._api.param_serialize(
                method,
                path,
                query_params=list(query),
                header_params=headers,
                body=dict(body) if body is not None else None,
                auth_settings=["BearerToken"],
            )
            response = self._api.call_api(*serialized)
            data = response.response.data
            if not 200 <= response.status <= 299:
                raise ApiException.from_response(
                    http_resp=response, body=data.decode(errors="replace"), data=None
                )
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            raise kube_error(error) from error
        return bytes(data)

    def get(self, path: str, query: Sequence[tuple[str, str]] = ()) -> Object:
        """GET a JSON document."""
        return _decode(self.request("GET", path, query=query))

    def list_objects(
        self,
        resource: ResourceType,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Iterator[Object]:
        """Every matching object of a kind (in ``namespace``, or all), fetched in pages."""
        query = [("limit", str(LIST_PAGE_SIZE))]
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        token = ""
        while True:
            page = self.get(
                resource.collection_path(namespace),
                [*query, ("continue", token)] if token else query,
            )
            yield from page.get("items") or ()
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                return

    def apply(
        self,
        manifest: Mapping[str, Any],
        *,
        field_manager: str,
        force: bool,
        namespace: str | None = None,
    ) -> Object:
        """Server-side apply one object; returns the object as the server now has it.

        A namespaced object without ``metadata.namespace`` goes to ``namespace``.
        """
        resource = self.resource_type(_string_field(manifest, "apiVersion"), manifest.get("kind"))
        metadata = manifest.get("metadata") or {}
        name = metadata.get("name")
        if not isinstance(name, str) or not name:
            raise KubeInvalidError(f"a {resource.kind} manifest has no metadata.name")
        target_namespace = None
        if resource.namespaced:
            target_namespace = metadata.get("namespace") or namespace
            if not target_namespace:
                raise KubeInvalidError(f"{resource.kind} {name!r} has no metadata.namespace")
            manifest = {**manifest, "metadata": {**metadata, "namespace": target_namespace}}
        query = [("fieldManager", field_manager)]
        if force:
            query.append(("force", "true"))
        return _decode(
            self.request(
                "PATCH",
                resource.object_path(name, target_namespace),
                query=query,
                body=manifest,
                content_type=APPLY_PATCH,
            )
        )

    def delete(
        self, resource: ResourceType, name: str, namespace: str | None, propagation: str
    ) -> bool:
        """Delete one object; ``False`` if it was already gone."""
        try:
            self.request(
                "DELETE",
                resource.object_path(name, namespace),
                body={
                    "apiVersion": "v1",
                    "kind": "DeleteOptions",
                    "propagationPolicy": propagation,
                },
            )
        except KubeNotFoundError:
            return False
        return True

    def resource_type(self, api_version: str, kind: object) -> ResourceType:
        """How the server serves ``kind`` of ``api_version``; asks discovery on first use.

        Raises :class:`KubeInvalidError` if the cluster does not serve that kind.
        """
        if not isinstance(kind, str) or not kind:
            raise KubeInvalidError("a manifest has no kind")
        known = self._kinds.get(api_version, {}).get(kind)
        if known is not None:
            return known
        try:
            served = self._discover(api_version)
        except KubeNotFoundError:
            served = {}
        if kind not in served:
            raise KubeInvalidError(f"the cluster does not serve kind {kind} in {api_version}")
        return served[kind]

    def _discover(self, api_version: str) -> dict[str, ResourceType]:
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        if api_version != "v1" and api_version.count("/") != 1:
            raise KubeNotFoundError(f"{api_version!r} is not a group/version")
        served: dict[str, ResourceType] = {}
        for entry in self.get(path).get("resources") or ():
            if "/" in entry.get("name", "/"):
                continue
            served[entry["kind"]] = ResourceType(
                api_version=api_version,
                kind=entry["kind"],
                plural=entry["name"],
                namespaced=bool(entry.get("namespaced")),
            )
        with self._kinds_lock:
            self._kinds[api_version] = served
        return served


def _decode(data: bytes) -> Object:
    try:
        document = json.loads(data)
    except ValueError as error:
        raise PermanentKubeError(f"the server's answer is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise PermanentKubeError("the server's answer is JSON but not an object")
    return document


def _string_field(manifest: Mapping[str, Any], key: str) -> str:
    value = manifest.get(key)
    if not isinstance(value, str) or not value:
        raise KubeInvalidError(f"a manifest has no {key}")
    return value
