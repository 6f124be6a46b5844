"""One client per member cluster for the life of the service, closed at shutdown.

The pool keeps, per cluster id, the ``ApiClient`` built from the credentials it was last given;
new credentials (a rotated token, a new CA) build a new client and close the old one. All
drivers share one bounded thread pool for their blocking calls.

    >>> pool = KubeClientPool(address_guard=guard)
    >>> readiness = await pool.driver(cluster.id, credentials).readyz()
    >>> pool.close()  # at shutdown
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from kubernetes.client import ApiClient

from app.kube.client import (
    DEFAULT_TIMEOUTS,
    AddressGuard,
    ClusterCredentials,
    Timeouts,
    build_api_client,
    close_api_client,
)
from app.kube.driver import KubeDriver

DEFAULT_WORKERS = 8

_CredentialFields = tuple[str, str, str | None, str | None, str | None]


@dataclass(frozen=True, slots=True)
class _Entry:
    credentials: _CredentialFields
    api_client: ApiClient
    driver: KubeDriver


class KubeClientPool:
    """Drivers by cluster id, each over one ``ApiClient``; thread- and task-safe.

    ``address_guard`` is called with the peer address of every new connection (see
    :mod:`app.kube.client`); ``None`` turns the check off.
    """

    def __init__(
        self,
        *,
        address_guard: AddressGuard | None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        max_workers: int = DEFAULT_WORKERS,
    ) -> None:
        self._address_guard = address_guard
        self._timeouts = timeouts
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="placer-kube")
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._closed = False

    def driver(self, cluster_id: str, credentials: ClusterCredentials) -> KubeDriver:
        """The driver for ``cluster_id``, rebuilt if ``credentials`` changed since last time."""
        fields = (
            credentials.server,
            credentials.ca_data,
            credentials.token,
            credentials.client_certificate_data,
            credentials.client_key_data,
        )
        with self._lock:
            if self._closed:
                raise RuntimeError("the Kubernetes client pool is closed")
            entry = self._entries.get(cluster_id)
            if entry is not None and entry.credentials == fields:
                return entry.driver
            api_client = build_api_client(
                credentials, address_guard=self._address_guard, timeouts=self._timeouts
            )
            self._entries[cluster_id] = _Entry(
                fields, api_client, KubeDriver(api_client, self._executor)
            )
        if entry is not None:
            close_api_client(entry.api_client)
        return self._entries[cluster_id].driver

    def discard(self, cluster_id: str) -> None:
        """Close the client of a cluster that left the inventory."""
        with self._lock:
            entry = self._entries.pop(cluster_id, None)
        if entry is not None:
            close_api_client(entry.api_client)

    def close(self) -> None:
        """Close every client; calls still running finish or fail on their own timeouts."""
        with self._lock:
            self._closed = True
            entries, self._entries = list(self._entries.values()), {}
        for entry in entries:
            close_api_client(entry.api_client)
        self._executor.shutdown(wait=False, cancel_futures=True)
