"""What every answer guarantees, on random batches too large to enumerate."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scheduling.optimizer import (
    BatchProblem,
    Layout,
    SolverConfig,
    SolveStatus,
    greedy_baseline,
    solve_batch,
    violations,
)
from tests.unit.optimizer.builders import make_problem, random_problem

REPRODUCIBLE = SolverConfig(
    time_limit=30.0,
    num_workers=1,
    random_seed=11,
    relative_gap_limit=0.0,
    deterministic_time_limit=2.0,
)


def _two_clusters(**overrides: object) -> BatchProblem:
    """An on-prem cluster (prepaid, small) and an IaaS cluster, one resource (cpu)."""
    fields: dict[str, object] = {
        "resource_names": ("cpu",),
        "cluster_names": ("onprem-tokyo", "aws-tokyo"),
        "capacity": [[10], [100]],
        "onprem": [True, False],
        "workload_names": ("big-batch", "personal-data"),
        "replicas": [1, 1],
        "requests": [[8], [6]],
        "layout": [Layout.SINGLE, Layout.SINGLE],
        "count": [1, 1],
        "allowed": [[True, True], [True, False]],
        "unit_cost": [[0, 80], [0, 60]],
    }
    fields.update(overrides)
    return make_problem(**fields)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_every_answer_respects_capacity_policies_layouts_and_anti_affinity(seed: int) -> None:
    problem = random_problem(seed, max_workloads=25, max_clusters=5, max_replicas=4)

    result = solve_batch(problem, SolverConfig(time_limit=5.0, num_workers=1))

    assert violations(problem, result.x) == []
    assert set(result.unplaced) == {r.workload for r in result.reasons}
    assert result.lower_bound <= result.cost or result.gap is None


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_fixed_seed_gives_the_same_answer_twice(seed: int) -> None:
    problem = random_problem(seed, max_workloads=30, max_clusters=6, max_replicas=4)

    first = solve_batch(problem, REPRODUCIBLE)
    second = solve_batch(problem, REPRODUCIBLE)

    np.testing.assert_array_equal(first.x, second.x)
    assert first.cost == second.cost


def test_joint_placement_keeps_prepaid_capacity_for_the_workload_that_needs_it() -> None:
    problem = _two_clusters()

    greedy = greedy_baseline(problem)
    result = solve_batch(problem)

    assert greedy.tolist() == [[1, 0], [0, 0]]
    assert result.x.tolist() == [[0, 1], [1, 0]]
    assert result.status is SolveStatus.OPTIMAL
    assert (result.greedy_unplaced, result.cost, result.gap) == (1, 80, 0.0)


def test_infeasible_batch_is_reported_with_reasons_per_cluster() -> None:
    problem = _two_clusters(requests=[[8], [6]], allowed=[[True, False], [True, False]])

    result = solve_batch(problem)

    assert result.status is SolveStatus.INFEASIBLE
    assert result.min_unplaced == len(result.unplaced) == 1
    (reason,) = result.reasons
    assert reason.per_cluster[1] == "not allowed by policy or filters"
    assert reason.per_cluster[0].startswith("insufficient cpu")
    assert reason.summary == (
        "0/2 clusters available: 1 insufficient cpu, 1 not allowed by policy or filters"
    )


def test_workload_no_cluster_can_hold_is_unplaceable_even_on_an_empty_fleet() -> None:
    problem = _two_clusters(requests=[[8], [16]])

    result = solve_batch(problem)

    assert result.unplaced == (1,)
    assert result.status is SolveStatus.INFEASIBLE
    assert "insufficient cpu" in result.reasons[0].per_cluster[0]


def test_anti_affine_workloads_never_share_a_cluster_even_when_it_is_cheaper() -> None:
    problem = _two_clusters(
        allowed=[[True, True], [True, True]],
        requests=[[2], [2]],
        anti_affinity=[[0, 1]],
    )

    result = solve_batch(problem)

    assert sorted(np.flatnonzero(result.x[:, 0]).tolist()) == [0]
    assert result.x[1, 1] == 1


def test_duplicated_and_spread_layouts_use_distinct_clusters() -> None:
    problem = make_problem(
        resource_names=("cpu",),
        cluster_names=("a", "b", "c"),
        capacity=[[100], [100], [100]],
        onprem=[False, False, False],
        workload_names=tuple(f"w{i}" for i in range(6)),
        replicas=[3, 3, 3, 4, 4, 4],
        requests=[[1]] * 6,
        layout=[Layout.DUPLICATED] * 3 + [Layout.SPREAD] * 3,
        count=[2, 2, 2, 3, 3, 3],
        allowed=np.ones((6, 3), dtype=bool),
        unit_cost=[[1, 2, 3]] * 6,
    )

    result = solve_batch(problem)

    assert violations(problem, result.x) == []
    assert ((result.x[:3] > 0).sum(axis=1) == 2).all()
    assert ((result.x[3:] > 0).sum(axis=1) == 3).all()
    assert result.status is SolveStatus.OPTIMAL


def test_moving_a_replica_costs_the_configured_penalty() -> None:
    stay = _two_clusters(
        allowed=[[True, True], [True, True]],
        unit_cost=[[0, 80], [0, 60]],
        current=[[0, 1], [0, 0]],
        move_penalty=100,
    )

    result = solve_batch(stay)

    assert result.x[0].tolist() == [0, 1]
    assert result.cost == 80


def test_team_budget_is_never_exceeded() -> None:
    problem = _two_clusters(
        capacity=[[0], [100]],
        allowed=[[True, True], [True, True]],
        team=[0, 0],
        team_budget=[70],
    )

    result = solve_batch(problem)

    assert result.x.tolist() == [[0, 0], [0, 1]]
    assert result.status is SolveStatus.INFEASIBLE
    assert "budget" in result.reasons[0].summary


def test_the_greedy_fallback_answers_when_the_solver_has_no_time() -> None:
    problem = random_problem(3, max_workloads=40, max_clusters=6, max_replicas=4)

    result = solve_batch(problem, SolverConfig(time_limit=0.0, num_workers=1))

    assert violations(problem, result.x) == []
    assert len(result.unplaced) <= result.greedy_unplaced
