"""Joint, cost-optimal placement of a batch of workloads, with a certified gap (§6).

The optimizer works on its own numeric problem (:class:`BatchProblem`); the bridge in
:mod:`app.scheduling.optimizer.from_snapshot` builds one from the scheduling core's snapshot.

Example::

    result = solve_batch(problem, SolverConfig(time_limit=5.0))
    result.status, result.cost, result.gap, result.reasons
"""

from app.scheduling.optimizer.explain import UnplacedReason
from app.scheduling.optimizer.greedy import greedy_baseline
from app.scheduling.optimizer.problem import (
    NO_LIMIT,
    BatchProblem,
    Layout,
    Violation,
    placement_cost,
    violations,
)
from app.scheduling.optimizer.solve import BatchResult, SolverConfig, SolveStatus, solve_batch

__all__ = [
    "NO_LIMIT",
    "BatchProblem",
    "BatchResult",
    "Layout",
    "SolveStatus",
    "SolverConfig",
    "UnplacedReason",
    "Violation",
    "greedy_baseline",
    "placement_cost",
    "solve_batch",
    "violations",
]
