"""What a test cluster looks like: its place in the world and its simulated Nodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ClusterKind = Literal["iaas", "onprem"]


@dataclass(frozen=True)
class NodeSpec:
    """One simulated Node; cpu and memory are Kubernetes quantities of allocatable capacity."""

    name: str
    zone: str
    cpu: str
    memory: str
    pods: int
    instance_type: str


@dataclass(frozen=True)
class ClusterSpec:
    """One cluster of a fleet, described as Placer's inventory would describe it."""

    name: str
    kind: ClusterKind
    provider: str
    region: str
    country: str
    nodes: tuple[NodeSpec, ...]

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(node.zone for node in self.nodes))


def nodes_per_zone(
    cluster: str,
    zones: tuple[str, ...],
    *,
    per_zone: int,
    cpu: str,
    memory: str,
    pods: int,
    instance_type: str,
) -> tuple[NodeSpec, ...]:
    """Identical Nodes spread evenly over zones, named ``<cluster>-<zone suffix>-<n>``."""
    return tuple(
        NodeSpec(
            name=f"{cluster}-{zone.rsplit('-', 1)[-1]}-{index}",
            zone=zone,
            cpu=cpu,
            memory=memory,
            pods=pods,
            instance_type=instance_type,
        )
        for zone in zones
        for index in range(1, per_zone + 1)
    )


ONPREM_TOKYO = ClusterSpec(
    name="onprem-tokyo",
    kind="onprem",
    provider="dc-tokyo-1",
    region="jp-tokyo",
    country="JP",
    nodes=nodes_per_zone(
        "onprem-tokyo",
        ("jp-tokyo-hall1", "jp-tokyo-hall2"),
        per_zone=2,
        cpu="31500m",
        memory="120Gi",
        pods=110,
        instance_type="r760-2s",
    ),
)
IAAS_TOKYO = ClusterSpec(
    name="iaas-tokyo",
    kind="iaas",
    provider="aws",
    region="ap-northeast-1",
    country="JP",
    nodes=nodes_per_zone(
        "iaas-tokyo",
        ("ap-northeast-1a", "ap-northeast-1c"),
        per_zone=1,
        cpu="3920m",
        memory="14Gi",
        pods=58,
        instance_type="m6i.xlarge",
    ),
)
IAAS_FRANKFURT = ClusterSpec(
    name="iaas-frankfurt",
    kind="iaas",
    provider="gcp",
    region="europe-west3",
    country="DE",
    nodes=nodes_per_zone(
        "iaas-frankfurt",
        ("europe-west3-a", "europe-west3-b", "europe-west3-c"),
        per_zone=1,
        cpu="7910m",
        memory="28Gi",
        pods=110,
        instance_type="e2-standard-8",
    ),
)

DEFAULT_FLEET: tuple[ClusterSpec, ...] = (ONPREM_TOKYO, IAAS_TOKYO, IAAS_FRANKFURT)


def default_fleet(count: int) -> tuple[ClusterSpec, ...]:
    """The standard three clusters, followed by small extra IaaS clusters when count exceeds 3."""
    if count < 1:
        raise ValueError("a fleet has at least one cluster")
    extras = tuple(
        ClusterSpec(
            name=f"iaas-extra-{index}",
            kind="iaas",
            provider="aws",
            region="us-east-1",
            country="US",
            nodes=nodes_per_zone(
                f"iaas-extra-{index}",
                ("us-east-1a",),
                per_zone=1,
                cpu="3920m",
                memory="14Gi",
                pods=58,
                instance_type="m6i.xlarge",
            ),
        )
        for index in range(len(DEFAULT_FLEET) + 1, count + 1)
    )
    return (*DEFAULT_FLEET, *extras)[:count]
