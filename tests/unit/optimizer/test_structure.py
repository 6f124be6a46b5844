"""Aggregation and decomposition keep the answer exact."""

import numpy as np

from app.scheduling.optimizer import BatchProblem, Layout, SolverConfig, solve_batch
from app.scheduling.optimizer.aggregation import group_identical_rows, interchangeable_groups
from app.scheduling.optimizer.decompose import independent_parts
from tests.unit.optimizer.builders import make_problem


def _two_regions(n_per_region: int) -> BatchProblem:
    """Workloads pinned to either {a, b} or {c, d}: two independent halves."""
    n = 2 * n_per_region
    allowed = np.zeros((n, 4), dtype=bool)
    allowed[:n_per_region, :2] = True
    allowed[n_per_region:, 2:] = True
    return make_problem(
        resource_names=("cpu",),
        cluster_names=("a", "b", "c", "d"),
        capacity=[[10], [10], [10], [10]],
        onprem=[True, False, True, False],
        workload_names=tuple(f"w{i}" for i in range(n)),
        replicas=[1] * n,
        requests=[[3]] * n,
        layout=[Layout.SINGLE] * n,
        count=[1] * n,
        allowed=allowed,
        unit_cost=[[0, 5, 0, 7]] * n,
    )


def test_equal_rows_share_a_group_and_different_rows_never_do() -> None:
    rows = np.array([[1, 2], [3, 4], [1, 2], [1, 3]])

    group = group_identical_rows(rows)

    assert group[0] == group[2]
    assert len({group[0], group[1], group[3]}) == 3


def test_identical_workloads_collapse_into_one_group_but_anti_affine_ones_stay_alone() -> None:
    problem = _two_regions(3)
    paired = make_problem(**{**problem.__dict__, "anti_affinity": [[0, 1]]})

    assert len(interchangeable_groups(problem).members) == 2
    assert len(interchangeable_groups(paired).members) == 4


def test_independent_halves_are_solved_apart_and_each_fills_its_prepaid_cluster() -> None:
    problem = _two_regions(5)

    parts, hopeless = independent_parts(problem)
    result = solve_batch(problem, SolverConfig(num_workers=1))

    assert [p.clusters.tolist() for p in parts] == [[0, 1], [2, 3]]
    assert hopeless.size == 0
    assert result.stats["parts"] == 2
    assert result.x[:, [0, 2]].sum() == 6
    assert result.cost == 2 * 5 + 2 * 7
    assert result.gap == 0.0
