"""Seeded batch-placement instances that look like a real hybrid fleet.

**Fleet.** Clusters sit in four jurisdictions (JP, EU, US and a smaller SG). About a quarter
are on-prem: prepaid (zero marginal cost), about half the size of an IaaS cluster. The rest
are IaaS on three providers whose prices per vCPU-hour, GiB-hour and GPU-hour differ by
provider and region (0.85x-1.25x of a list price of 0.04 / 0.005 / 2.50 per hour). About one
cluster in seven has GPUs. Three resources: cpu (millicores), memory (MiB), GPUs.

**Workloads.** Shapes come from a catalogue of common request sizes (250m/512Mi up to
16 cores/64Gi), small ones most frequent; about 4% ask for 1-4 GPUs. Replica counts follow a
heavy-tailed (Pareto) distribution: most workloads run 1-3 replicas, a few run dozens.
Strategies: 60% single, 25% divided, 10% spread over 2-3 clusters, 5% duplicated in 2.
Between 30% and 65% of workloads (drawn per instance) are restricted by residency: three
quarters of them to one jurisdiction, the rest to on-prem clusters. About 1% of workloads come
in anti-affinity pairs; one in ten prefers on-prem a little (a small preference credit).

**Capacity.** Every workload is first put on random allowed clusters (a hidden assignment
that respects layouts and anti-affinity); each cluster's capacity is then scaled, keeping its
node shape, so that its most-used resource sits at 60-85% in that hidden assignment. Every
instance therefore has a placement of every workload, and the fleet is loaded to 60-85%.
"""

from dataclasses import dataclass

import numpy as np

from app.scheduling.optimizer import BatchProblem, Layout

JURISDICTIONS = ("JP", "EU", "US", "SG")
JURISDICTION_WEIGHTS = (0.3, 0.3, 0.3, 0.1)
LIST_PRICE = np.array([40_000.0, 5_000.0, 2_500_000.0])
"""Micro-units per vCPU-hour, per GiB-hour and per GPU-hour."""
PRICE_UNIT = np.array([1000.0, 1024.0, 1.0])
"""Request units per priced unit: millicores per vCPU, MiB per GiB, GPUs per GPU."""
SHAPES = np.array(
    [
        (250, 512, 0),
        (500, 1024, 0),
        (500, 2048, 0),
        (1000, 2048, 0),
        (1000, 4096, 0),
        (2000, 4096, 0),
        (2000, 8192, 0),
        (4000, 8192, 0),
        (4000, 16384, 0),
        (8000, 32768, 0),
        (16000, 65536, 0),
    ]
)
SHAPE_WEIGHTS = np.array([14, 16, 12, 14, 10, 9, 8, 6, 5, 4, 2], dtype=float)
GPU_SHAPES = np.array([(4000, 16384, 1), (8000, 32768, 1), (8000, 65536, 2), (16000, 131072, 4)])


@dataclass(frozen=True)
class Fleet:
    """Cluster attributes the generator also needs for its own bookkeeping."""

    jurisdiction: np.ndarray
    onprem: np.ndarray
    has_gpu: np.ndarray
    node_shape: np.ndarray


def _fleet(rng: np.random.Generator, n_clusters: int) -> Fleet:
    jurisdiction = rng.choice(len(JURISDICTIONS), size=n_clusters, p=JURISDICTION_WEIGHTS)
    jurisdiction[: len(JURISDICTIONS)] = np.arange(min(n_clusters, len(JURISDICTIONS)))
    onprem = rng.random(n_clusters) < 0.25
    onprem[: min(2, n_clusters)] = True
    has_gpu = rng.random(n_clusters) < 1 / 7
    has_gpu[min(2, n_clusters - 1)] = True
    node_shape = np.tile(np.array([64_000.0, 256 * 1024.0, 0.0]), (n_clusters, 1))
    node_shape[:, 1] *= rng.choice([0.75, 1.0, 1.5], size=n_clusters)
    node_shape[has_gpu, 2] = 8.0
    node_shape[onprem] *= 0.5
    return Fleet(jurisdiction, onprem, has_gpu, node_shape)


def generate(n_workloads: int, n_clusters: int, seed: int, move_penalty: int = 0) -> BatchProblem:
    """One instance of ``n_workloads`` x ``n_clusters`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    fleet = _fleet(rng, n_clusters)
    is_gpu = rng.random(n_workloads) < 0.04
    requests = SHAPES[
        rng.choice(len(SHAPES), size=n_workloads, p=SHAPE_WEIGHTS / SHAPE_WEIGHTS.sum())
    ]
    requests[is_gpu] = GPU_SHAPES[rng.integers(0, len(GPU_SHAPES), size=int(is_gpu.sum()))]
    replicas = np.minimum(1 + (rng.pareto(1.4, n_workloads) * 1.2).astype(np.int64), 60)
    layout = rng.choice(
        [Layout.SINGLE, Layout.DIVIDED, Layout.SPREAD, Layout.DUPLICATED],
        size=n_workloads,
        p=[0.60, 0.25, 0.10, 0.05],
    ).astype(np.int64)
    count = np.where(layout == Layout.SPREAD, rng.integers(2, 4, n_workloads), 1)
    count = np.where(layout == Layout.DUPLICATED, 2, count)
    too_few = (layout == Layout.SPREAD) & (replicas < count)
    layout[too_few] = Layout.DIVIDED
    allowed = _residency(rng, fleet, n_workloads, is_gpu)
    _widen_where_too_few(allowed, np.where(layout == Layout.SINGLE, 1, count), is_gpu, fleet)
    price = LIST_PRICE * rng.uniform(0.85, 1.25, size=(n_clusters, 1)) / PRICE_UNIT
    unit_cost = np.rint(requests @ price.T).astype(np.int64)
    unit_cost[:, fleet.onprem] = 0
    prefers_onprem = rng.random(n_workloads) < 0.10
    preference = np.zeros_like(unit_cost)
    credit = np.rint(0.02 * unit_cost.mean(axis=1)).astype(np.int64)
    preference[np.ix_(prefers_onprem, fleet.onprem)] = credit[prefers_onprem, None]
    pairs = rng.permutation(n_workloads)[: 2 * (n_workloads // 200)].reshape(-1, 2)
    hidden = _hidden_assignment(
        rng,
        fleet=fleet,
        allowed=allowed,
        replicas=replicas,
        layout=layout,
        count=count,
        pairs=pairs,
    )
    capacity = _capacity(rng, fleet, hidden.T @ requests)
    return BatchProblem(
        resource_names=("cpu", "memory", "nvidia.com/gpu"),
        cluster_names=tuple(f"cluster-{c:03d}" for c in range(n_clusters)),
        capacity=capacity,
        onprem=fleet.onprem,
        workload_names=tuple(f"workload-{w:05d}" for w in range(n_workloads)),
        replicas=replicas,
        requests=requests,
        layout=layout,
        count=count,
        allowed=allowed,
        unit_cost=unit_cost,
        preference=preference,
        move_penalty=move_penalty,
        anti_affinity=pairs,
    )


def _residency(
    rng: np.random.Generator, fleet: Fleet, n_workloads: int, is_gpu: np.ndarray
) -> np.ndarray:
    restricted_share = rng.uniform(0.30, 0.65)
    restricted = rng.random(n_workloads) < restricted_share
    to_onprem = restricted & (rng.random(n_workloads) < 0.25) & ~is_gpu
    to_jurisdiction = restricted & ~to_onprem
    home = rng.choice(len(JURISDICTIONS), size=n_workloads, p=JURISDICTION_WEIGHTS)
    allowed = np.ones((n_workloads, len(fleet.onprem)), dtype=bool)
    allowed[to_jurisdiction] = fleet.jurisdiction[None, :] == home[to_jurisdiction, None]
    allowed[to_onprem] = fleet.onprem[None, :]
    allowed[is_gpu] &= fleet.has_gpu[None, :]
    return allowed


def _widen_where_too_few(
    allowed: np.ndarray, need: np.ndarray, is_gpu: np.ndarray, fleet: Fleet
) -> None:
    """Lift the residency of workloads left with fewer clusters than their layout needs."""
    short = allowed.sum(axis=1) < need
    allowed[short] = np.where(is_gpu[short, None], fleet.has_gpu[None, :], True)


def _hidden_assignment(
    rng: np.random.Generator,
    *,
    fleet: Fleet,
    allowed: np.ndarray,
    replicas: np.ndarray,
    layout: np.ndarray,
    count: np.ndarray,
    pairs: np.ndarray,
) -> np.ndarray:
    """Replicas per (workload, cluster) of a random placement that respects every layout."""
    n_w, n_c = allowed.shape
    weight = fleet.node_shape[:, 0] / fleet.node_shape[:, 0].max()
    x = np.zeros((n_w, n_c), dtype=np.int64)
    partner = dict(map(tuple, pairs)) | {int(b): int(a) for a, b in pairs}
    for w in range(n_w):
        options = allowed[w].copy()
        other = partner.get(w)
        if other is not None and x[other].any() and (options & (x[other] == 0)).any():
            options &= x[other] == 0
        clusters = np.flatnonzero(options)
        p = weight[clusters] / weight[clusters].sum()
        lay = Layout(layout[w])
        if lay is Layout.SINGLE:
            x[w, rng.choice(clusters, p=p)] = replicas[w]
        elif lay is Layout.DUPLICATED:
            k = min(int(count[w]), len(clusters))
            x[w, rng.choice(clusters, size=k, replace=False, p=p)] = replicas[w]
        else:
            k = min(int(count[w]) if lay is Layout.SPREAD else 2, len(clusters))
            chosen = rng.choice(clusters, size=k, replace=False, p=p)
            split = np.bincount(np.arange(replicas[w]) % k, minlength=k)
            x[w, chosen] = split
    return x


def _capacity(rng: np.random.Generator, fleet: Fleet, load: np.ndarray) -> np.ndarray:
    """Node-shaped capacity whose most-used resource is 60-85% used by ``load``."""
    target = rng.uniform(0.60, 0.85, size=len(fleet.onprem))
    shape = fleet.node_shape
    used = np.where(shape > 0, load / np.where(shape > 0, shape, 1.0), 0.0)
    scale = used.max(axis=1) / target
    capacity = np.floor(shape * np.maximum(scale, 1e-3)[:, None])
    return np.asarray(np.maximum(capacity, np.where(shape > 0, 1.0, 0.0)), dtype=np.int64)
