"""Replica assignment: turn ranked feasible clusters into cluster → replicas, per strategy.

Pure functions over :class:`Candidate` lists (best first). Every successful result places
exactly ``replicas`` replicas per copy and never more on a cluster than fit there.
"""

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from app.scheduling.types import DivideBy, PlacementSpec, SpreadBy, Strategy


class Candidate(NamedTuple):
    """A feasible cluster as assignment sees it: its zones and how many replicas fit.

    A named tuple rather than a frozen dataclass: one is built per feasible cluster in every
    decision, and a tuple is several times cheaper to create.
    """

    name: str
    zones: tuple[str, ...]
    fit: int


class AssignmentError(Exception):
    """No assignment satisfies the strategy; the message says why, in words."""


def assign(
    placement: PlacementSpec,
    replicas: int,
    candidates: Sequence[Candidate],
    *,
    aggregate: bool = False,
) -> dict[str, int]:
    """Assign ``replicas`` over ``candidates`` (best first) following ``placement``.

    ``aggregate`` packs ``divided`` replicas onto as few clusters as possible in candidate
    order instead of splitting them by weight (used to find the cheapest placement).
    Raises :class:`AssignmentError` when impossible.
    """
    if replicas <= 0:
        raise AssignmentError("the workload asks for no replicas")
    strategy = placement.strategy
    if strategy is Strategy.SINGLE:
        return _single(replicas, candidates)
    if strategy is Strategy.DUPLICATED:
        return _duplicated(replicas, placement.copies, candidates)
    if strategy is Strategy.SPREAD:
        return _spread(replicas, placement.min_spread, placement.spread_by, candidates)
    if aggregate:
        return _fill(replicas, candidates, {})
    if placement.divide_by is DivideBy.WEIGHTS:
        weights = {c.name: placement.weights.get(c.name, 0) for c in candidates}
    else:
        weights = {c.name: c.fit for c in candidates}
    return divide(replicas, candidates, weights)


def _single(replicas: int, candidates: Sequence[Candidate]) -> dict[str, int]:
    for candidate in candidates:
        if candidate.fit >= replicas:
            return {candidate.name: replicas}
    raise AssignmentError(f"no feasible cluster holds all {replicas} replicas")


def _duplicated(replicas: int, copies: int, candidates: Sequence[Candidate]) -> dict[str, int]:
    chosen = [c.name for c in candidates if c.fit >= replicas][:copies]
    if len(chosen) < copies:
        raise AssignmentError(
            f"{copies} full copies of {replicas} replicas need {copies} clusters; "
            f"{len(chosen)} can hold one"
        )
    return dict.fromkeys(chosen, replicas)


def _spread(
    replicas: int, minimum: int, spread_by: SpreadBy, candidates: Sequence[Candidate]
) -> dict[str, int]:
    usable = [c for c in candidates if c.fit > 0]
    chosen: list[Candidate] = []
    zones: set[str] = set()
    for candidate in usable:
        covered = len(chosen) if spread_by is SpreadBy.CLUSTER else len(zones)
        if covered >= minimum:
            break
        if spread_by is SpreadBy.ZONE and not set(candidate.zones) - zones:
            continue
        chosen.append(candidate)
        zones.update(candidate.zones)
    covered = len(chosen) if spread_by is SpreadBy.CLUSTER else len(zones)
    if covered < minimum:
        unit = "clusters" if spread_by is SpreadBy.CLUSTER else "zones"
        raise AssignmentError(
            f"spread needs {minimum} distinct {unit}; the feasible clusters offer {covered}"
        )
    if replicas < len(chosen):
        raise AssignmentError(
            f"spreading over {len(chosen)} clusters needs at least {len(chosen)} replicas"
        )
    assignment = {c.name: 1 for c in chosen}
    remaining = replicas - len(chosen)
    fits = {c.name: c.fit for c in usable}
    while remaining:
        progressed = False
        for candidate in chosen:
            if remaining and assignment[candidate.name] < fits[candidate.name]:
                assignment[candidate.name] += 1
                remaining -= 1
                progressed = True
        if progressed:
            continue
        extra = next((c for c in usable if c.name not in assignment), None)
        if extra is None:
            raise AssignmentError(f"the feasible clusters hold fewer than {replicas} replicas")
        chosen.append(extra)
        assignment[extra.name] = 0
    return {name: count for name, count in assignment.items() if count}


def _fill(
    replicas: int, candidates: Sequence[Candidate], start: Mapping[str, int]
) -> dict[str, int]:
    assignment = dict(start)
    remaining = replicas - sum(assignment.values())
    for candidate in candidates:
        if remaining <= 0:
            break
        room = candidate.fit - assignment.get(candidate.name, 0)
        take = min(room, remaining)
        if take > 0:
            assignment[candidate.name] = assignment.get(candidate.name, 0) + take
            remaining -= take
    if remaining > 0:
        raise AssignmentError(f"the feasible clusters hold fewer than {replicas} replicas")
    return {name: count for name, count in assignment.items() if count}


def divide(
    replicas: int, candidates: Sequence[Candidate], weights: Mapping[str, int]
) -> dict[str, int]:
    """Split ``replicas`` in proportion to ``weights`` by the largest-remainder method.

    A cluster never gets more than fits; its excess is re-divided over the others. Ties in
    remainders go to the earlier (better-ranked) candidate. The result sums to ``replicas``.
    """
    active = [c for c in candidates if weights.get(c.name, 0) > 0 and c.fit > 0]
    if sum(c.fit for c in active) < replicas:
        raise AssignmentError(
            f"the clusters with a weight hold {sum(c.fit for c in active)} of {replicas} replicas"
        )
    assignment: dict[str, int] = {}
    remaining = replicas
    while remaining:
        total = sum(weights[c.name] for c in active)
        shares = {c.name: remaining * weights[c.name] // total for c in active}
        leftover = remaining - sum(shares.values())
        order = sorted(
            range(len(active)),
            key=lambda i: (-(remaining * weights[active[i].name] % total), i),
        )
        for index in order[:leftover]:
            shares[active[index].name] += 1
        capped = [c for c in active if shares[c.name] >= c.fit]
        if not capped:
            assignment.update(shares)
            break
        for candidate in capped:
            assignment[candidate.name] = candidate.fit
            remaining -= candidate.fit
        active = [c for c in active if c not in capped]
    return {name: count for name, count in assignment.items() if count}
