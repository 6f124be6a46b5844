"""Real Kubernetes test clusters: build the pinned binaries, run fleets, simulate Nodes.

    from tests.support.kubefleet import Fleet, default_fleet, ensure_binaries

    ensure_binaries()                       # go build, only what is missing from the cache
    fleet = Fleet.start(default_fleet(3))   # etcd + kube-apiserver + controller-manager each
    fleet.cluster("iaas-tokyo").kubeconfig_path
    fleet.stop()

Used by the pytest plugin ``tests.support.kube`` and by ``scripts/testclusters``.
"""

from tests.support.kubefleet.build import (
    KUBERNETES_VERSION,
    Binaries,
    BuildFailedError,
    GoToolchainMissingError,
    ensure_binaries,
    installed_binaries,
)
from tests.support.kubefleet.cluster import Cluster
from tests.support.kubefleet.fleet import (
    Fleet,
    FleetAlreadyRunningError,
    reap_abandoned_fleets,
    runs_directory,
    stop_fleet_directory,
)
from tests.support.kubefleet.nodesim import (
    EXIT_CODE_ANNOTATION,
    RUN_SECONDS_ANNOTATION,
    SIMULATED_NODE_LABEL,
)
from tests.support.kubefleet.processes import ProcessExitedError
from tests.support.kubefleet.specs import (
    DEFAULT_FLEET,
    ClusterKind,
    ClusterSpec,
    NodeSpec,
    default_fleet,
    nodes_per_zone,
)

__all__ = [
    "DEFAULT_FLEET",
    "EXIT_CODE_ANNOTATION",
    "KUBERNETES_VERSION",
    "RUN_SECONDS_ANNOTATION",
    "SIMULATED_NODE_LABEL",
    "Binaries",
    "BuildFailedError",
    "Cluster",
    "ClusterKind",
    "ClusterSpec",
    "Fleet",
    "FleetAlreadyRunningError",
    "GoToolchainMissingError",
    "NodeSpec",
    "ProcessExitedError",
    "default_fleet",
    "ensure_binaries",
    "installed_binaries",
    "nodes_per_zone",
    "reap_abandoned_fleets",
    "runs_directory",
    "stop_fleet_directory",
]
