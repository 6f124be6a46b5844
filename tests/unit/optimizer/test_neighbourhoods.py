"""Large-neighbourhood search only ever improves a valid placement, and finds trades."""

import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scheduling.optimizer import (
    Layout,
    SolverConfig,
    greedy_baseline,
    placement_cost,
    solve_batch,
    violations,
)
from app.scheduling.optimizer.cpsat import CpSatParameters
from app.scheduling.optimizer.greedy import improve_by_moves, replica_prices
from app.scheduling.optimizer.lns import NeighbourhoodBudget, improve_by_neighbourhoods
from tests.unit.optimizer.builders import make_problem, random_problem

ONE_WORKER = CpSatParameters(time_limit=1.0, num_workers=1, random_seed=3, relative_gap_limit=0.0)

RESTRICTED_THEN_NEIGHBOURHOODS = SolverConfig(
    time_limit=30.0,
    num_workers=1,
    random_seed=5,
    relative_gap_limit=0.0,
    deterministic_time_limit=1.0,
    full_model_columns=0,
    neighbourhood_clusters=2,
)
"""Forces the path large batches take (restricted model, then neighbourhoods) on small ones."""


def _budget(seconds: float = 5.0, clusters: int = 2) -> NeighbourhoodBudget:
    return NeighbourhoodBudget(
        deadline=time.monotonic() + seconds,
        target_cost=float("-inf"),
        deterministic_time=2.0,
        clusters=clusters,
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_search_keeps_every_constraint_and_never_raises_the_cost(seed: int) -> None:
    problem = random_problem(seed, max_workloads=30, max_clusters=6, max_replicas=4)
    start = greedy_baseline(problem)

    outcome = improve_by_neighbourhoods(problem, start, ONE_WORKER, _budget())

    assert violations(problem, outcome.x) == []
    assert placement_cost(problem, outcome.x) <= placement_cost(problem, start)
    placed_before = start.sum(axis=1) > 0
    assert ((outcome.x.sum(axis=1) > 0) == placed_before).all()


def test_search_trades_two_workloads_for_one_where_single_moves_stall() -> None:
    # Prepaid "onprem" holds 10 cpu. It holds the 6-cpu workload; the two 5-cpu ones pay
    # for IaaS. Swapping the big one out for both small ones saves 10 - 6 = 4, but no
    # single move fits, so only a joint re-solve finds it.
    problem = make_problem(
        resource_names=("cpu",),
        cluster_names=("onprem", "iaas-a", "iaas-b"),
        capacity=[[10], [100], [100]],
        onprem=[True, False, False],
        workload_names=("big", "small-1", "small-2"),
        replicas=[1, 1, 1],
        requests=[[6], [5], [5]],
        layout=[Layout.SINGLE] * 3,
        count=[1, 1, 1],
        allowed=np.ones((3, 3), dtype=bool),
        unit_cost=[[0, 6, 9], [0, 5, 9], [0, 5, 9]],
    )
    start = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0]])
    stalled = improve_by_moves(problem, start, replica_prices(problem), time.monotonic() + 5)

    outcome = improve_by_neighbourhoods(problem, start, ONE_WORKER, _budget(clusters=2))

    assert placement_cost(problem, stalled) == 10
    assert outcome.x.tolist() == [[0, 1, 0], [1, 0, 0], [1, 0, 0]]
    assert placement_cost(problem, outcome.x) == 6
    assert outcome.improvements >= 1


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_large_batch_path_is_valid_reproducible_and_no_costlier_than_greedy(
    seed: int,
) -> None:
    problem = random_problem(seed, max_workloads=30, max_clusters=6, max_replicas=4)

    first = solve_batch(problem, RESTRICTED_THEN_NEIGHBOURHOODS)
    second = solve_batch(problem, RESTRICTED_THEN_NEIGHBOURHOODS)

    assert violations(problem, first.x) == []
    np.testing.assert_array_equal(first.x, second.x)
    if len(first.unplaced) == first.greedy_unplaced == 0:
        assert first.cost <= first.greedy_cost
    assert len(first.unplaced) <= first.greedy_unplaced
