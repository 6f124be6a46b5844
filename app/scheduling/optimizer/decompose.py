"""Independent parts of a batch, which can be solved separately without losing optimality.

Two workloads interact only through a shared cluster's capacity, an anti-affinity pair or a
shared team budget. The connected components of that relation split both the constraints and
the objective, so the optimum of the whole is the union of the parts' optima, and the sum of
the parts' lower bounds bounds the whole.
"""

from dataclasses import dataclass, replace

import numpy as np

from app.scheduling.optimizer.aggregation import group_identical_rows
from app.scheduling.optimizer.problem import BatchProblem, IntArray


@dataclass(frozen=True)
class Part:
    """One independent part: its workloads and clusters (indices into the whole batch)."""

    workloads: IntArray
    clusters: IntArray


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def independent_parts(problem: BatchProblem) -> tuple[list[Part], IntArray]:
    """The independent parts, and the workloads that have no allowed cluster at all."""
    n_c = problem.n_clusters
    links = _UnionFind(n_c)
    distinct = group_identical_rows(problem.allowed.astype(np.int64))
    _, first = np.unique(distinct, return_index=True)
    for w in first:
        clusters = np.flatnonzero(problem.allowed[w])
        for c in clusters[1:]:
            links.union(int(clusters[0]), int(c))
    anchor = np.where(problem.allowed.any(axis=1), problem.allowed.argmax(axis=1), -1)
    for a, b in problem.anti_affinity:
        if anchor[a] >= 0 and anchor[b] >= 0:
            links.union(int(anchor[a]), int(anchor[b]))
    if problem.team_budget is not None and problem.team is not None:
        for t in np.flatnonzero(problem.team_budget >= 0):
            anchors = anchor[(problem.team == t) & (anchor >= 0)]
            for c in anchors[1:]:
                links.union(int(anchors[0]), int(c))
    root = np.array([links.find(c) for c in range(n_c)], dtype=np.int64)
    placeable = anchor >= 0
    workload_root = np.where(placeable, root[np.maximum(anchor, 0)], -1)
    parts = [
        Part(
            workloads=np.flatnonzero(workload_root == r).astype(np.int64),
            clusters=np.flatnonzero(root == r).astype(np.int64),
        )
        for r in np.unique(workload_root[placeable])
    ]
    return parts, np.flatnonzero(~placeable).astype(np.int64)


def subproblem(problem: BatchProblem, part: Part) -> BatchProblem:
    """The batch restricted to one part's workloads and clusters (indices renumbered)."""
    ws, cs = part.workloads, part.clusters
    if len(ws) == problem.n_workloads and len(cs) == problem.n_clusters:
        return problem
    renumber = np.full(problem.n_workloads, -1, dtype=np.int64)
    renumber[ws] = np.arange(len(ws))
    pairs = renumber[problem.anti_affinity]
    pairs = pairs[(pairs >= 0).all(axis=1)]

    def rows(a: IntArray | None) -> IntArray | None:
        return None if a is None else a[ws]

    def cells(a: IntArray | None) -> IntArray | None:
        return None if a is None else a[np.ix_(ws, cs)]

    return replace(
        problem,
        cluster_names=tuple(problem.cluster_names[c] for c in cs),
        capacity=problem.capacity[cs],
        onprem=problem.onprem[cs],
        workload_names=tuple(problem.workload_names[w] for w in ws),
        replicas=problem.replicas[ws],
        requests=problem.requests[ws],
        layout=problem.layout[ws],
        count=problem.count[ws],
        allowed=problem.allowed[np.ix_(ws, cs)],
        unit_cost=problem.unit_cost[np.ix_(ws, cs)],
        spend_cost=cells(problem.spend_cost),
        preference=cells(problem.preference),
        current=cells(problem.current),
        team=rows(problem.team),
        max_hourly_cost=rows(problem.max_hourly_cost),
        anti_affinity=pairs,
    )
