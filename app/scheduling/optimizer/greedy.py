"""One-at-a-time placement: what multi-cluster schedulers do today, and our fallback.

:func:`greedy_baseline` is the comparison the issue asks for: workloads sorted largest
first, each to its cheapest cluster that still fits, never revisited. :func:`greedy_fill`
is the same procedure with any order and any per-replica price, which the optimizer feeds
with capacity prices from the LP relaxation ("dual-priced greedy") to build its hints.
"""

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.scheduling.optimizer.problem import BatchProblem, IntArray, Layout

FloatArray = npt.NDArray[np.float64]


def size_order(problem: BatchProblem) -> IntArray:
    """Workload indices, largest first: replicas x copies x requests as fleet shares."""
    fleet = np.maximum(problem.capacity.sum(axis=0), 1).astype(np.float64)
    share = (problem.requests / fleet).sum(axis=1) * problem.replicas * problem.copies()
    return np.asarray(np.lexsort((np.arange(problem.n_workloads), -share)), dtype=np.int64)


def constrained_order(problem: BatchProblem) -> IntArray:
    """Fewest allowed clusters first, then largest first (as in :func:`size_order`)."""
    fleet = np.maximum(problem.capacity.sum(axis=0), 1).astype(np.float64)
    share = (problem.requests / fleet).sum(axis=1) * problem.replicas * problem.copies()
    choices = problem.allowed.sum(axis=1)
    order = np.lexsort((np.arange(problem.n_workloads), -share, choices))
    return np.asarray(order, dtype=np.int64)


def replica_prices(problem: BatchProblem) -> FloatArray:
    """Per replica-hour objective of each (workload, cluster), moves included.

    Keeping a replica where it runs saves ``move_penalty``; spread over the replicas.
    """
    price = problem.effective_cost().astype(np.float64)
    if problem.current is not None and problem.move_penalty:
        kept = np.minimum(problem.current, problem.replicas[:, None])
        price = price - problem.move_penalty * kept / problem.replicas[:, None]
    return price


def greedy_baseline(problem: BatchProblem) -> IntArray:
    """Largest first, each workload to its cheapest feasible cluster(s)."""
    return greedy_fill(problem, size_order(problem), replica_prices(problem))


class _FleetState:
    """What is left while workloads are placed one by one."""

    def __init__(self, problem: BatchProblem) -> None:
        self.problem = problem
        self.remaining = problem.capacity.astype(np.int64).copy()
        self.x = np.zeros((problem.n_workloads, problem.n_clusters), dtype=np.int64)
        n_teams = 0 if problem.team_budget is None else len(problem.team_budget)
        self.team_spend = np.zeros(n_teams, dtype=np.int64)
        self.partners: dict[int, list[int]] = {}
        for a, b in problem.anti_affinity:
            self.partners.setdefault(int(a), []).append(int(b))
            self.partners.setdefault(int(b), []).append(int(a))

    def candidates(self, w: int) -> npt.NDArray[np.bool_]:
        mask: npt.NDArray[np.bool_] = self.problem.allowed[w].copy()
        for other in self.partners.get(w, ()):
            mask &= self.x[other] == 0
        return mask

    def fits(self, w: int) -> IntArray:
        """How many replicas of ``w`` each cluster still holds."""
        req = self.problem.requests[w]
        positive = req > 0
        if not positive.any():
            return np.full(self.problem.n_clusters, self.problem.replicas[w], dtype=np.int64)
        room = self.remaining[:, positive] // req[positive]
        return np.asarray(room.min(axis=1), dtype=np.int64)

    def affordable(self, w: int, row: IntArray) -> bool:
        problem = self.problem
        cost = int(row @ problem.spend_rate()[w])
        cap = -1 if problem.max_hourly_cost is None else int(problem.max_hourly_cost[w])
        if 0 <= cap < cost:
            return False
        if problem.team_budget is not None and problem.team is not None:
            team = int(problem.team[w])
            budget = int(problem.team_budget[team])
            if 0 <= budget < self.team_spend[team] + cost:
                return False
        return True

    def commit(self, w: int, row: IntArray) -> None:
        self._apply(w, row, 1)
        self.x[w] = row

    def release(self, w: int) -> IntArray:
        row: IntArray = self.x[w].copy()
        self._apply(w, row, -1)
        self.x[w] = 0
        return row

    def _apply(self, w: int, row: IntArray, sign: int) -> None:
        used = np.flatnonzero(row)
        self.remaining[used] -= sign * row[used, None] * self.problem.requests[w]
        if self.problem.team_budget is not None and self.problem.team is not None:
            self.team_spend[self.problem.team[w]] += sign * int(row @ self.problem.spend_rate()[w])


@dataclass(frozen=True)
class Targets:
    """Replicas per (group, cluster) a fractional plan (the LP) wants, and each workload's group."""

    group: IntArray
    replicas: FloatArray


def greedy_fill(
    problem: BatchProblem,
    order: IntArray,
    price: FloatArray,
    targets: Targets | None = None,
) -> IntArray:
    """Place workloads in ``order``, each at least ``price`` per replica; never revisit.

    With ``targets``, a workload first goes where its group's plan still has room for it
    (cheapest such cluster), and uses up that room: rounding the plan one workload at a time.
    A workload that fits nowhere stays unplaced (all zeros).
    """
    state = _FleetState(problem)
    left = None if targets is None else targets.replicas.copy()
    spread = float(np.abs(price[np.isfinite(price)]).max(initial=0.0)) + 1.0
    for w in order.tolist():
        row_price = price[w]
        if left is not None and targets is not None:
            need = problem.replicas[w] if problem.layout[w] != Layout.DIVIDED else 1
            planned = left[targets.group[w]] >= need - 1e-6
            row_price = row_price - 4 * spread * planned
        row = _choose(state, w, row_price)
        if row is not None and state.affordable(w, row):
            state.commit(w, row)
            if left is not None and targets is not None:
                left[targets.group[w]] -= row
    return state.x


def _choose(state: _FleetState, w: int, price: FloatArray) -> IntArray | None:
    problem = state.problem
    layout = Layout(problem.layout[w])
    replicas = int(problem.replicas[w])
    room = np.where(state.candidates(w), state.fits(w), 0)
    ranked = np.argsort(price, kind="stable")
    row = np.zeros(problem.n_clusters, dtype=np.int64)
    if layout in (Layout.SINGLE, Layout.DUPLICATED):
        copies = int(problem.count[w]) if layout is Layout.DUPLICATED else 1
        chosen = ranked[room[ranked] >= replicas][:copies]
        if len(chosen) < copies:
            return None
        row[chosen] = replicas
        return row
    if layout is Layout.SPREAD:
        firsts = ranked[room[ranked] >= 1][: int(problem.count[w])]
        if len(firsts) < problem.count[w]:
            return None
        row[firsts] = 1
    # Fill the cheapest clusters first: each takes what it has room for, up to what is left.
    spare = np.maximum(room[ranked] - row[ranked], 0)
    before = np.concatenate(([0], np.cumsum(spare)[:-1]))
    take = np.clip(replicas - int(row.sum()) - before, 0, spare)
    row[ranked] += take
    return row if row.sum() == replicas else None


def improve_by_moves(
    problem: BatchProblem, x: IntArray, price: FloatArray, deadline: float
) -> IntArray:
    """Local search: re-place one workload at a time where it costs less, until none gains.

    Each step takes a workload out, places it again at its cheapest spot given everything
    else (same rules as :func:`greedy_fill`), and keeps the move only if the objective
    drops. Unplaced workloads get a try too. Stops at ``deadline`` (``time.monotonic``).
    """
    state = _FleetState(problem)
    for w in np.flatnonzero(x.sum(axis=1) > 0).tolist():
        state.commit(w, x[w])
    cost = problem.effective_cost()
    current = problem.current_or_zero()

    def value(w: int, row: IntArray) -> int:
        if not row.any():
            return problem.unplaced_penalty()
        moved = np.maximum(current[w] - row, 0).sum()
        return int(row @ cost[w]) + problem.move_penalty * int(moved)

    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        values = np.array([value(w, state.x[w]) for w in range(problem.n_workloads)])
        for w in np.argsort(-values, kind="stable").tolist():
            if time.monotonic() >= deadline:
                break
            old = state.release(w)
            row = _choose(state, w, price[w])
            if row is not None and state.affordable(w, row) and value(w, row) < values[w]:
                state.commit(w, row)
                improved = True
            else:
                state.commit(w, old)
    return state.x
