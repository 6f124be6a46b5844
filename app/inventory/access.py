"""Reaching a member cluster from what the inventory stores about it.

Credentials are decrypted here and handed straight to the client pool, which keeps one client
per cluster; they are never logged. Clusters without credentials have no driver: Placer only
plans for them.
"""

import uuid

from app.clusters.credentials import ClusterCredentials
from app.kube import KubeClientPool, KubeDriver
from app.security.secretbox import DecryptionError, SecretBox


class UnusableCredentialsError(Exception):
    """The stored credentials cannot be read: a missing key, or corrupt storage."""


class ClusterAccess:
    """Drivers for member clusters, built from their sealed credentials."""

    def __init__(self, pool: KubeClientPool, secret_box: SecretBox) -> None:
        self._pool = pool
        self._secret_box = secret_box

    def driver(self, cluster_id: uuid.UUID, sealed_credentials: bytes) -> KubeDriver:
        """The driver of a cluster; :class:`UnusableCredentialsError` if they cannot be read."""
        try:
            credentials = ClusterCredentials.from_json(self._secret_box.decrypt(sealed_credentials))
        except (DecryptionError, ValueError) as error:
            raise UnusableCredentialsError(
                f"the stored credentials are unusable: {error}"
            ) from None
        return self._pool.driver(str(cluster_id), credentials)

    def forget(self, cluster_id: uuid.UUID) -> None:
        """Close the client of a cluster whose credentials were removed."""
        self._pool.discard(str(cluster_id))
