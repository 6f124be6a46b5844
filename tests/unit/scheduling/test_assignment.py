"""Replica assignment per strategy; division never loses or duplicates a replica."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.scheduling.assignment import AssignmentError, Candidate, assign, divide
from app.scheduling.types import DivideBy, PlacementSpec, SpreadBy, Strategy

SPREAD2 = PlacementSpec(strategy=Strategy.SPREAD, min_spread=2)


def weighted(weights: dict[str, int]) -> PlacementSpec:
    return PlacementSpec(strategy=Strategy.DIVIDED, divide_by=DivideBy.WEIGHTS, weights=weights)


def cands(*fits: int, zones: tuple[str, ...] | None = None) -> list[Candidate]:
    return [
        Candidate(f"c{i}", (zones[i],) if zones else (f"z{i}",), fit) for i, fit in enumerate(fits)
    ]


@pytest.mark.parametrize(
    ("placement", "replicas", "fits", "expected"),
    [
        (PlacementSpec(), 3, (2, 5), {"c1": 3}),
        (PlacementSpec(strategy=Strategy.DUPLICATED, copies=2), 3, (3, 1, 4), {"c0": 3, "c2": 3}),
        (SPREAD2, 5, (10, 10, 10), {"c0": 3, "c1": 2}),
        (SPREAD2, 5, (1, 1, 10), {"c0": 1, "c1": 1, "c2": 3}),
        (PlacementSpec(strategy=Strategy.DIVIDED), 6, (2, 4), {"c0": 2, "c1": 4}),
        (
            weighted({"c0": 1, "c1": 3}),
            8,
            (100, 100, 100),
            {"c0": 2, "c1": 6},
        ),
        (
            weighted({"c0": 1, "c1": 1}),
            8,
            (2, 100),
            {"c0": 2, "c1": 6},
        ),
    ],
)  # fmt: skip
def test_strategies(
    placement: PlacementSpec, replicas: int, fits: tuple[int, ...], expected: dict[str, int]
) -> None:
    assert assign(placement, replicas, cands(*fits)) == expected


def test_spread_by_zone_counts_distinct_zones() -> None:
    placement = PlacementSpec(strategy=Strategy.SPREAD, min_spread=2, spread_by=SpreadBy.ZONE)
    result = assign(placement, 4, cands(5, 5, 5, zones=("a", "a", "b")))
    assert set(result) == {"c0", "c2"}


@pytest.mark.parametrize(
    ("placement", "replicas", "fits", "words"),
    [
        (PlacementSpec(), 3, (2, 2), "holds all 3"),
        (PlacementSpec(strategy=Strategy.DUPLICATED, copies=3), 1, (1, 1), "need 3 clusters"),
        (PlacementSpec(strategy=Strategy.SPREAD, min_spread=3), 5, (9, 9), "3 distinct"),
        (PlacementSpec(strategy=Strategy.SPREAD, min_spread=3), 2, (9, 9, 9), "at least 3"),
        (PlacementSpec(strategy=Strategy.DIVIDED), 9, (4, 4), "hold 8 of 9"),
    ],
)  # fmt: skip
def test_impossible_assignments_say_why(
    placement: PlacementSpec, replicas: int, fits: tuple[int, ...], words: str
) -> None:
    with pytest.raises(AssignmentError, match=words):
        assign(placement, replicas, cands(*fits))


@given(
    replicas=st.integers(1, 500),
    fits=st.lists(st.integers(0, 200), min_size=1, max_size=30),
    weights=st.lists(st.integers(0, 50), min_size=30, max_size=30),
)
def test_division_never_loses_or_duplicates_a_replica(
    replicas: int, fits: list[int], weights: list[int]
) -> None:
    candidates = cands(*fits)
    weight_map = {c.name: weights[i] for i, c in enumerate(candidates)}
    usable = sum(c.fit for c in candidates if weight_map[c.name] > 0)
    if usable < replicas:
        with pytest.raises(AssignmentError):
            divide(replicas, candidates, weight_map)
        return
    result = divide(replicas, candidates, weight_map)
    assert sum(result.values()) == replicas
    fit = {c.name: c.fit for c in candidates}
    assert all(0 < count <= fit[name] and weight_map[name] > 0 for name, count in result.items())


@given(
    replicas=st.integers(1, 60),
    fits=st.lists(st.integers(0, 30), min_size=1, max_size=12),
    strategy=st.sampled_from(list(Strategy)),
    n=st.integers(1, 4),
)
def test_every_strategy_places_exactly_what_it_promises(
    replicas: int, fits: list[int], strategy: Strategy, n: int
) -> None:
    placement = PlacementSpec(strategy=strategy, min_spread=n, copies=n)
    try:
        result = assign(placement, replicas, cands(*fits))
    except AssignmentError:
        return
    fit = dict(enumerate(fits))
    assert all(count <= fit[int(name[1:])] for name, count in result.items())
    if strategy is Strategy.DUPLICATED:
        assert list(result.values()) == [replicas] * n
    else:
        assert sum(result.values()) == replicas
    if strategy is Strategy.SPREAD:
        assert len(result) >= n
    if strategy is Strategy.SINGLE:
        assert len(result) == 1
