"""The only code that talks to Kubernetes: clients for member clusters, the driver, its errors.

Everything public is imported from here; the submodules are its implementation.
"""

from app.kube.client import AddressGuard, ClusterCredentials, Timeouts, build_api_client
from app.kube.driver import DELETE_PROPAGATION, KubeDriver, OwnedObject, Readiness
from app.kube.errors import (
    Cause,
    KubeAddressError,
    KubeConcurrencyError,
    KubeConflictError,
    KubeError,
    KubeForbiddenError,
    KubeInvalidError,
    KubeNotFoundError,
    KubeRedirectError,
    KubeServerError,
    KubeTLSError,
    KubeUnauthorizedError,
    KubeUnreachableError,
    PermanentKubeError,
    TemporaryKubeError,
    kube_error,
)
from app.kube.inventory import TRACKED_RESOURCES, NodeInfo, node_info, pod_requests
from app.kube.ownership import (
    FIELD_MANAGER,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    MANAGED_KINDS,
    WORKLOAD_ID_LABEL,
    ownership_labels,
    ownership_selector,
    stamp_ownership,
    workload_id_of,
)
from app.kube.pool import KubeClientPool
from app.kube.status import Condition, Rollout, WorkloadStatus

__all__ = [
    "DELETE_PROPAGATION",
    "FIELD_MANAGER",
    "MANAGED_BY",
    "MANAGED_BY_LABEL",
    "MANAGED_KINDS",
    "TRACKED_RESOURCES",
    "WORKLOAD_ID_LABEL",
    "AddressGuard",
    "Cause",
    "ClusterCredentials",
    "Condition",
    "KubeAddressError",
    "KubeClientPool",
    "KubeConcurrencyError",
    "KubeConflictError",
    "KubeDriver",
    "KubeError",
    "KubeForbiddenError",
    "KubeInvalidError",
    "KubeNotFoundError",
    "KubeRedirectError",
    "KubeServerError",
    "KubeTLSError",
    "KubeUnauthorizedError",
    "KubeUnreachableError",
    "NodeInfo",
    "OwnedObject",
    "PermanentKubeError",
    "Readiness",
    "Rollout",
    "TemporaryKubeError",
    "Timeouts",
    "WorkloadStatus",
    "build_api_client",
    "kube_error",
    "node_info",
    "ownership_labels",
    "ownership_selector",
    "pod_requests",
    "stamp_ownership",
    "workload_id_of",
]
