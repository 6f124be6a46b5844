"""Why a workload was left unplaced: one reason per cluster and a one-line summary.

The summary reads like Karmada's fit error, counting clusters per reason:
``0/12 clusters available: 7 not allowed, 5 insufficient cpu``.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from app.scheduling.optimizer.problem import BatchProblem, IntArray, Layout

NOT_ALLOWED = "not allowed by policy or filters"


@dataclass(frozen=True)
class UnplacedReason:
    """Why workload ``workload`` is unplaced: ``per_cluster`` maps cluster index to words."""

    workload: int
    summary: str
    per_cluster: Mapping[int, str]


def explain_unplaced(
    problem: BatchProblem, allowed_before_fit: np.ndarray, x: IntArray
) -> list[UnplacedReason]:
    """Reasons for every workload ``x`` leaves unplaced, judged against what ``x`` leaves free.

    ``allowed_before_fit`` is the policy/filter domain before size filtering, so a cluster
    that is simply too small says so rather than "not allowed".
    """
    free = problem.capacity - x.T @ problem.requests
    partners: dict[int, list[int]] = {}
    for a, b in problem.anti_affinity:
        partners.setdefault(int(a), []).append(int(b))
        partners.setdefault(int(b), []).append(int(a))
    team_left = _team_budget_left(problem, x)
    reasons = []
    for w in np.flatnonzero(x.sum(axis=1) == 0).tolist():
        layout = Layout(problem.layout[w])
        unit = problem.replicas[w] if layout in (Layout.SINGLE, Layout.DUPLICATED) else 1
        need = problem.requests[w] * unit
        per_cluster: dict[int, str] = {}
        for c in range(problem.n_clusters):
            if not allowed_before_fit[w, c]:
                per_cluster[c] = NOT_ALLOWED
            else:
                per_cluster[c] = _fit_reason(
                    problem, w, c=c, missing=need - free[c], partners=partners, x=x
                )
        summary = _summary(problem, w, per_cluster, team_left)
        reasons.append(UnplacedReason(w, summary, per_cluster))
    return reasons


def _fit_reason(
    problem: BatchProblem,
    w: int,
    *,
    c: int,
    missing: IntArray,
    partners: Mapping[int, list[int]],
    x: IntArray,
) -> str:
    short = [
        f"insufficient {problem.resource_names[r]} ({missing[r]} more needed)"
        for r in np.flatnonzero(missing > 0)
    ]
    if short:
        return "; ".join(short)
    for other in partners.get(w, ()):
        if x[other, c] > 0:
            return f"anti-affinity with {problem.workload_names[other]}"
    cap = -1 if problem.max_hourly_cost is None else int(problem.max_hourly_cost[w])
    if 0 <= cap < problem.spend_rate()[w, c] * problem.replicas[w]:
        return "over the workload's maximum hourly cost"
    return "fits alone, but not together with the rest of its layout"


def _team_budget_left(problem: BatchProblem, x: IntArray) -> IntArray | None:
    if problem.team_budget is None or problem.team is None:
        return None
    spend = np.bincount(
        problem.team,
        weights=(x * problem.spend_rate()).sum(axis=1),
        minlength=len(problem.team_budget),
    )
    return np.asarray(problem.team_budget - spend, dtype=np.int64)


def _summary(
    problem: BatchProblem,
    w: int,
    per_cluster: Mapping[int, str],
    team_left: IntArray | None,
) -> str:
    kinds = Counter(reason.split(" (")[0] for reason in per_cluster.values())
    parts = ", ".join(
        f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    text = f"0/{problem.n_clusters} clusters available: {parts}"
    if team_left is not None and problem.team is not None:
        team = int(problem.team[w])
        if problem.team_budget is not None and problem.team_budget[team] >= 0:
            costs = problem.spend_rate()[w][problem.allowed[w]]
            if costs.size and int(costs.min()) * int(problem.replicas[w]) > team_left[team]:
                text += "; the team's budget cannot pay for it"
    return text
