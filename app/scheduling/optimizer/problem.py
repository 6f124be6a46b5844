"""The optimizer's numeric problem: a batch of workloads over a fleet, as integer arrays.

Everything the solver needs and nothing else: which clusters each workload may use (policy
and filter decisions already applied, so a forbidden pair simply has no variable), what each
replica costs there, how much each cluster has left. Units are fixed by :mod:`.scaling`:
resources in solver units (millicores, MiB, devices, pods), money in integer micro-units per
hour. Indices: ``w`` workloads, ``c`` clusters, ``r`` resources, ``t`` teams.

The objective of a placement ``x`` (replicas per workload and cluster) is lexicographic:
first place as many workloads as possible, then minimize::

    cost(x) = sum x[w, c] * (unit_cost[w, c] - preference[w, c])
            + move_penalty * sum max(0, current[w, c] - x[w, c])

It is encoded as one integer objective ``cost(x) + unplaced_penalty * (#unplaced)``, where
``unplaced_penalty`` exceeds twice any cost any placement can reach, so one more placed
workload is always worth more than any saving.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Layout(IntEnum):
    """How a workload's replicas go onto clusters (the §5 strategies).

    ``SINGLE``: all replicas on one cluster. ``DUPLICATED``: all replicas on each of
    ``count`` distinct clusters. ``DIVIDED``: replicas split freely over clusters.
    ``SPREAD``: replicas split over at least ``count`` distinct clusters.
    """

    SINGLE = 0
    SPREAD = 1
    DIVIDED = 2
    DUPLICATED = 3


NO_LIMIT = -1
"""Marks an absent budget or cost cap."""


def _frozen(array: npt.ArrayLike, dtype: type) -> npt.NDArray[np.generic]:
    out: npt.NDArray[np.generic] = np.array(array, dtype=dtype)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class BatchProblem:
    """A batch to place jointly. Arrays are copied and made read-only at construction.

    Shapes: ``capacity`` [C, R] free capacity: what workloads outside the batch leave (the
    batch's own current replicas are *not* subtracted; ``current`` says where they are);
    ``requests`` [W, R] per replica; ``allowed``, ``unit_cost``, ``preference``, ``current``
    [W, C].
    ``unit_cost`` is the marginal price of one replica-hour (0 on prepaid on-prem clusters);
    ``preference`` is subtracted from it (a weighted score expressed in money).
    ``spend_cost`` [W, C] is what budgets and cost caps count per replica-hour (the
    attributed cost, which charges on-prem replicas a share of the fixed cost); it defaults
    to ``unit_cost``.
    ``count`` is N for ``SPREAD`` and ``DUPLICATED`` (ignored otherwise). ``team_budget`` [T]
    caps each team's hourly spend (``NO_LIMIT`` for none);
    ``max_hourly_cost`` [W] caps each workload the same way. ``anti_affinity`` [P, 2] lists
    pairs of workloads that must not share a cluster.
    """

    resource_names: tuple[str, ...]
    cluster_names: tuple[str, ...]
    capacity: IntArray
    onprem: BoolArray
    workload_names: tuple[str, ...]
    replicas: IntArray
    requests: IntArray
    layout: IntArray
    count: IntArray
    allowed: BoolArray
    unit_cost: IntArray
    preference: IntArray | None = None
    current: IntArray | None = None
    move_penalty: int = 0
    team: IntArray | None = None
    spend_cost: IntArray | None = None
    team_budget: IntArray | None = None
    max_hourly_cost: IntArray | None = None
    anti_affinity: IntArray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))

    def __post_init__(self) -> None:
        n_w, n_c, n_r = len(self.workload_names), len(self.cluster_names), len(self.resource_names)
        ints = {
            "capacity": (n_c, n_r),
            "replicas": (n_w,),
            "requests": (n_w, n_r),
            "layout": (n_w,),
            "count": (n_w,),
            "unit_cost": (n_w, n_c),
            "preference": (n_w, n_c),
            "current": (n_w, n_c),
            "spend_cost": (n_w, n_c),
            "team": (n_w,),
            "max_hourly_cost": (n_w,),
        }
        for name, shape in ints.items():
            value = getattr(self, name)
            if value is None:
                continue
            array = _frozen(value, np.int64)
            if array.shape != shape:
                raise ValueError(f"{name}: expected shape {shape}, got {array.shape}")
            object.__setattr__(self, name, array)
        for name in ("onprem", "allowed"):
            object.__setattr__(self, name, _frozen(getattr(self, name), np.bool_))
        if self.allowed.shape != (n_w, n_c) or self.onprem.shape != (n_c,):
            raise ValueError("allowed must be [W, C] and onprem [C]")
        pairs = _frozen(self.anti_affinity, np.int64).reshape(-1, 2)
        object.__setattr__(self, "anti_affinity", pairs)
        if self.team_budget is not None:
            object.__setattr__(self, "team_budget", _frozen(self.team_budget, np.int64))
            if self.team is None:
                raise ValueError("team_budget needs team")
        self._validate()

    def _validate(self) -> None:
        if (self.replicas < 1).any():
            raise ValueError("replicas: every workload needs at least one replica")
        if (self.requests < 0).any() or (self.capacity < 0).any():
            raise ValueError("requests and capacity must be non-negative")
        if not np.isin(self.layout, [int(v) for v in Layout]).all():
            raise ValueError("layout: unknown strategy code")
        multi = np.isin(self.layout, [Layout.SPREAD, Layout.DUPLICATED])
        if (self.count[multi] < 1).any():
            raise ValueError("count: spread and duplicated need N >= 1")
        spread = self.layout == Layout.SPREAD
        if (self.count[spread] > self.replicas[spread]).any():
            raise ValueError("count: spread over more clusters than replicas")
        if self.move_penalty < 0:
            raise ValueError("move_penalty must be non-negative")
        n_w = self.n_workloads
        if self.anti_affinity.size and (
            (self.anti_affinity < 0).any()
            or (self.anti_affinity >= n_w).any()
            or (self.anti_affinity[:, 0] == self.anti_affinity[:, 1]).any()
        ):
            raise ValueError("anti_affinity: pairs must name two different workloads")

    @property
    def n_workloads(self) -> int:
        """W."""
        return len(self.workload_names)

    @property
    def n_clusters(self) -> int:
        """C."""
        return len(self.cluster_names)

    def effective_cost(self) -> IntArray:
        """Per replica-hour objective coefficient: ``unit_cost - preference`` (read-only)."""
        return self._effective_cost

    @cached_property
    def _effective_cost(self) -> IntArray:
        # Computed once: at 50,000 x 200 each evaluation allocates 80 MB.
        if self.preference is None:
            return self.unit_cost
        cost: IntArray = self.unit_cost - self.preference
        cost.setflags(write=False)
        return cost

    def spend_rate(self) -> IntArray:
        """Per replica-hour amount budgets and cost caps count."""
        return self.unit_cost if self.spend_cost is None else self.spend_cost

    def current_or_zero(self) -> IntArray:
        """``current``, or zeros when the batch is all new."""
        if self.current is None:
            return np.zeros((self.n_workloads, self.n_clusters), dtype=np.int64)
        return self.current

    def copies(self) -> IntArray:
        """How many full copies each workload places: N for duplicated, else 1."""
        return np.where(self.layout == Layout.DUPLICATED, self.count, 1)

    def unplaced_penalty(self) -> int:
        """The objective weight of one unplaced workload (see the module docstring)."""
        eff = np.abs(self.effective_cost()) * self.allowed
        worst = eff.max(axis=1, initial=0) * self.replicas * self.copies()
        moves = self.move_penalty * self.current_or_zero().sum(axis=1)
        return int(1 + 2 * (int(worst.sum()) + int(moves.sum())))


@dataclass(frozen=True)
class Violation:
    """One way a placement breaks the problem's constraints, in words."""

    workload: int | None
    message: str


def placed_mask(problem: BatchProblem, x: IntArray) -> BoolArray:
    """Which workloads ``x`` places (any replica anywhere)."""
    return np.asarray(x.sum(axis=1) > 0)


def placement_cost(problem: BatchProblem, x: IntArray) -> int:
    """``cost(x)`` of the module docstring, exactly, in micro-units per hour."""
    cost = int((x * problem.effective_cost()).sum())
    if problem.current is not None and problem.move_penalty:
        moved = np.maximum(problem.current - x, 0).sum()
        cost += problem.move_penalty * int(moved)
    return cost


def spend(problem: BatchProblem, x: IntArray) -> IntArray:
    """Hourly spend per workload (what budgets and cost caps count)."""
    return np.asarray((x * problem.spend_rate()).sum(axis=1), dtype=np.int64)


def violations(problem: BatchProblem, x: IntArray) -> list[Violation]:
    """Every constraint ``x`` breaks; empty for a valid (possibly partial) placement.

    A workload is either fully placed per its layout or not at all.
    """
    if x.shape != (problem.n_workloads, problem.n_clusters) or (x < 0).any():
        return [Violation(None, "placement has the wrong shape or negative counts")]
    bad = np.argwhere((x > 0) & ~problem.allowed)
    found = [Violation(int(w), f"uses forbidden cluster {c}") for w, c in bad]
    used = x.T @ problem.requests
    for c, r in np.argwhere(used > problem.capacity):
        found.append(
            Violation(None, f"cluster {problem.cluster_names[c]} over {problem.resource_names[r]}")
        )
    placed = placed_mask(problem, x)
    per_cluster = (x > 0).sum(axis=1)
    total = x.sum(axis=1)
    for w in np.flatnonzero(placed):
        found.extend(_layout_violations(problem, x, int(w), int(per_cluster[w]), int(total[w])))
    for a, b in problem.anti_affinity:
        if ((x[a] > 0) & (x[b] > 0)).any():
            found.append(Violation(int(a), f"shares a cluster with anti-affine workload {b}"))
    workload_spend = spend(problem, x)
    if problem.max_hourly_cost is not None:
        capped = problem.max_hourly_cost >= 0
        for w in np.flatnonzero(capped & (workload_spend > problem.max_hourly_cost)):
            found.append(Violation(int(w), "exceeds its maximum hourly cost"))
    if problem.team_budget is not None and problem.team is not None:
        team_spend = np.bincount(
            problem.team, weights=workload_spend, minlength=len(problem.team_budget)
        )
        for t in np.flatnonzero((problem.team_budget >= 0) & (team_spend > problem.team_budget)):
            found.append(Violation(None, f"team {t} over its budget"))
    return found


def _layout_violations(
    problem: BatchProblem, x: IntArray, w: int, n_clusters: int, total: int
) -> Sequence[Violation]:
    layout, replicas, count = Layout(problem.layout[w]), problem.replicas[w], problem.count[w]
    row = x[w][x[w] > 0]
    if layout is Layout.SINGLE and (n_clusters != 1 or total != replicas):
        return [Violation(w, "single: all replicas must be on exactly one cluster")]
    if layout is Layout.DUPLICATED and (n_clusters != count or (row != replicas).any()):
        return [Violation(w, f"duplicated: needs all replicas on {count} clusters")]
    if layout is Layout.DIVIDED and total != replicas:
        return [Violation(w, "divided: replicas must sum to the requested count")]
    if layout is Layout.SPREAD and (total != replicas or n_clusters < count):
        return [Violation(w, f"spread: needs its replicas over at least {count} clusters")]
    return []
