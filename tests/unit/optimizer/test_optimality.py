"""The optimizer's answer equals the true optimum on instances small enough to enumerate."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scheduling.optimizer import SolverConfig, SolveStatus, solve_batch
from app.scheduling.optimizer.bound import lagrangian_bound
from tests.unit.optimizer.builders import brute_force, random_problem

EXACT = SolverConfig(time_limit=20.0, num_workers=1, random_seed=7, relative_gap_limit=0.0)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_answer_matches_exhaustive_enumeration(seed: int) -> None:
    problem = random_problem(seed)
    unplaced, cost = brute_force(problem)

    result = solve_batch(problem, EXACT)

    assert (len(result.unplaced), result.cost) == (unplaced, cost)
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE)
    assert result.min_unplaced == unplaced
    assert result.lower_bound <= cost


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.0, 50.0))
def test_lagrangian_bound_never_exceeds_the_optimum_for_any_prices(seed: int, scale: float) -> None:
    problem = random_problem(seed)
    unplaced, cost = brute_force(problem)
    prices = np.random.default_rng(seed).random((problem.n_clusters, 2)) * scale

    bound = lagrangian_bound(problem, prices)

    assert bound <= cost + problem.unplaced_penalty() * unplaced
