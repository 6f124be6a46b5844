"""Table-driven tests of each filter, score and placement-check plugin."""

from collections.abc import Mapping

import pytest

from app.kubetypes.labels import parse_label_selector
from app.kubetypes.taints import Taint, TaintEffect, Toleration
from app.policies import PolicySet
from app.scheduling.framework import CycleState
from app.scheduling.plugins import (
    balance,
    budgets,
    capacity_fit,
    cluster_selector,
    cluster_state,
    cost,
    max_hourly_cost,
    stickiness,
    taint_toleration,
    workload_affinity,
)
from app.scheduling.status import Code
from app.scheduling.types import (
    CPU,
    GIB,
    MEMORY,
    AffinityTerm,
    ClusterKind,
    ClusterSnapshot,
    ClusterState,
    PlacementSpec,
    Resources,
    Strategy,
    WorkloadSpec,
)
from tests.unit.scheduling.factories import NOW, cluster, snapshot, workload


def state_for(
    wl: WorkloadSpec,
    *clusters: ClusterSnapshot,
    others: tuple[WorkloadSpec, ...] = (),
    text: str = "",
) -> CycleState:
    policies = PolicySet.from_text(text) if text else PolicySet()
    return CycleState(snapshot(*clusters, workloads=others), wl, policies, NOW)


@pytest.mark.parametrize(
    ("state", "code", "reason"),
    [
        (ClusterState.READY, None, None),
        (ClusterState.CORDONED, Code.UNRESOLVABLE, "cordoned"),
        (ClusterState.DRAINING, Code.UNRESOLVABLE, "draining"),
        (ClusterState.UNREACHABLE, Code.UNRESOLVABLE, "unreachable"),
    ],
)
def test_cluster_state(state: ClusterState, code: Code | None, reason: str | None) -> None:
    target = cluster("c", state=state)
    status = cluster_state.new({}).filter(state_for(workload(), target), target)
    assert (status and status.code, status and status.reason) == (code, reason)


@pytest.mark.parametrize(
    ("selector", "labels", "passes"),
    [
        (None, {}, True),
        ("env=prod", {"env": "prod"}, True),
        ("env=prod", {"env": "dev"}, False),
        ("gpu in (a100,h100),!legacy", {"gpu": "h100"}, True),
        ("gpu in (a100,h100),!legacy", {"gpu": "h100", "legacy": "1"}, False),
    ],
)
def test_cluster_selector(selector: str | None, labels: Mapping[str, str], passes: bool) -> None:
    placement = PlacementSpec(cluster_selector=parse_label_selector(selector) if selector else None)
    target = cluster("c", labels=labels)
    status = cluster_selector.new({}).filter(
        state_for(workload(placement=placement), target), target
    )
    assert (status is None) == passes


GPU_TAINT = Taint("gpu", "true", TaintEffect.NO_SCHEDULE)
SOFT_TAINT = Taint("spot", "true", TaintEffect.PREFER_NO_SCHEDULE)


@pytest.mark.parametrize(
    ("taints", "tolerations", "passes"),
    [
        ((), (), True),
        ((GPU_TAINT,), (), False),
        ((GPU_TAINT,), (Toleration("gpu", "Equal", "true"),), True),
        ((GPU_TAINT,), (Toleration("gpu", "Exists"),), True),
        ((GPU_TAINT,), (Toleration("gpu", "Equal", "false"),), False),
        ((SOFT_TAINT,), (), True),
    ],
)
def test_taint_toleration_filter(
    taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...], passes: bool
) -> None:
    target = cluster("c", taints=taints)
    wl = workload(placement=PlacementSpec(tolerations=tolerations))
    status = taint_toleration.new({}).filter(state_for(wl, target), target)
    assert (status is None) == passes


def test_taint_toleration_score_prefers_clusters_without_soft_taints() -> None:
    plugin = taint_toleration.new({})
    clean, spot = cluster("clean"), cluster("spot", taints=(SOFT_TAINT,))
    state = state_for(workload(), clean, spot)
    raw = {c.name: plugin.score(state, c) for c in (clean, spot)}
    assert plugin.normalize(state, raw) == {"clean": 100, "spot": 0}


@pytest.mark.parametrize(
    ("free_cpu", "strategy", "replicas", "passes", "fit", "reason"),
    [
        (3000, Strategy.SINGLE, 3, True, 3, None),
        (2999, Strategy.SINGLE, 3, False, 2, "lack 3 CPU"),
        (1000, Strategy.DIVIDED, 3, True, 1, None),
        (999, Strategy.DIVIDED, 3, False, 0, "lack 1 CPU"),
        (0, Strategy.DUPLICATED, 2, False, 0, "lack 2 CPU"),
    ],
)
def test_capacity_fit(  # noqa: PLR0917 - one parameter per table column
    free_cpu: int, strategy: Strategy, replicas: int, passes: bool, fit: int, reason: str | None
) -> None:
    target = cluster(
        "c",
        capacity=Resources({CPU: 8000, MEMORY: 64 * GIB}),
        allocated=Resources({CPU: 8000 - free_cpu}),
    )
    wl = workload(replicas=replicas, placement=PlacementSpec(strategy=strategy))
    state = state_for(wl, target)
    status = capacity_fit.new({}).filter(state, target)
    assert (status is None) == passes
    assert state.fit_replicas["c"] == fit
    if status is not None:
        assert status.reason == reason
        assert status.code is Code.UNSCHEDULABLE


def test_capacity_counts_every_resource_and_credits_the_current_placement() -> None:
    target = cluster(
        "c",
        capacity=Resources({CPU: 8000, MEMORY: 4 * GIB, "nvidia.com/gpu": 1}),
        allocated=Resources({CPU: 2000, MEMORY: 4 * GIB}),
    )
    gpu = workload(replicas=1, requests=Resources({CPU: 1000, "nvidia.com/gpu": 2}))
    status = capacity_fit.new({}).filter(state_for(gpu, target), target)
    assert status is not None
    assert "GPU" in status.message
    memory_bound = workload(replicas=2, requests=Resources({CPU: 100, MEMORY: 2 * GIB}))
    assert capacity_fit.new({}).filter(state_for(memory_bound, target), target) is not None
    moving = workload(replicas=2, requests=Resources({CPU: 100, MEMORY: 2 * GIB}), current={"c": 2})
    assert capacity_fit.new({}).filter(state_for(moving, target), target) is None


def test_capacity_respects_declared_pods() -> None:
    full = cluster("c", capacity=Resources({CPU: 64_000, MEMORY: 64 * GIB, "pods": 10}),
                   allocated=Resources({"pods": 9}))  # fmt: skip
    assert capacity_fit.fit_replicas(full, workload().replica_demand) == 1


def test_cost_score_puts_prepaid_onprem_first_then_cheapest() -> None:
    plugin = cost.new({})
    onprem = cluster("dc", kind=ClusterKind.ONPREM)
    cheap = cluster("cheap")
    dear = cluster("dear", price=cluster("x").price.__class__.iaas(
        currency="USD", book="b", per_unit_hour={CPU: 90_000, MEMORY: 9_000}))  # fmt: skip
    state = state_for(workload(), onprem, cheap, dear)
    raw = {c.name: plugin.score(state, c) for c in (onprem, cheap, dear)}
    scores = plugin.normalize(state, raw)
    assert scores["dc"] == 100
    assert scores["dear"] == 0
    assert 0 < scores["cheap"] < 100


@pytest.mark.parametrize(("mode", "winner"), [("balance", "empty"), ("binpack", "busy")])
def test_balance_modes(mode: str, winner: str) -> None:
    plugin = balance.new({"mode": mode})
    empty = cluster("empty")
    busy = cluster("busy", allocated=Resources({CPU: 48_000}))
    state = state_for(workload(), empty, busy)
    scores = plugin.normalize(state, {c.name: plugin.score(state, c) for c in (empty, busy)})
    assert max(scores, key=lambda n: scores[n]) == winner


def test_balance_rejects_unknown_mode() -> None:
    with pytest.raises(ValueError, match="binpack"):
        balance.new({"mode": "random"})


def test_stickiness_prefers_current_clusters() -> None:
    plugin = stickiness.new({})
    here, there = cluster("here"), cluster("there")
    state = state_for(workload(current={"here": 3}), here, there)
    scores = plugin.normalize(state, {c.name: plugin.score(state, c) for c in (here, there)})
    assert scores == {"here": 100, "there": 0}


DB = workload("db", labels={"app": "db"}, current={"a": 1})


@pytest.mark.parametrize(
    ("affinity", "anti", "others", "allowed"),
    [
        ((AffinityTerm(parse_label_selector("app=db")),), (), (DB,), {"a"}),
        ((), (AffinityTerm(parse_label_selector("app=db")),), (DB,), {"b"}),
        ((AffinityTerm(parse_label_selector("app=db"), weight=50),), (), (DB,), {"a", "b"}),
        ((AffinityTerm(parse_label_selector("app=cache")),), (), (DB,), set()),
    ],
)
def test_workload_affinity_filter(
    affinity: tuple[AffinityTerm, ...],
    anti: tuple[AffinityTerm, ...],
    others: tuple[WorkloadSpec, ...],
    allowed: set[str],
) -> None:
    a, b = cluster("a"), cluster("b")
    wl = workload(placement=PlacementSpec(affinity=affinity, anti_affinity=anti))
    state = state_for(wl, a, b, others=others)
    plugin = workload_affinity.new({})
    assert {c.name for c in (a, b) if plugin.filter(state, c) is None} == allowed


def test_required_self_affinity_lets_the_first_of_a_group_in() -> None:
    term = AffinityTerm(parse_label_selector("app=web"))
    wl = workload(labels={"app": "web"}, placement=PlacementSpec(affinity=(term,)))
    a = cluster("a")
    assert workload_affinity.new({}).filter(state_for(wl, a), a) is None


def test_preferred_affinity_scores_colocation() -> None:
    term = AffinityTerm(parse_label_selector("app=db"), weight=80)
    wl = workload(placement=PlacementSpec(affinity=(term,)))
    a, b = cluster("a"), cluster("b")
    state = state_for(wl, a, b, others=(DB,))
    plugin = workload_affinity.new({})
    scores = plugin.normalize(state, {c.name: plugin.score(state, c) for c in (a, b)})
    assert scores == {"a": 100, "b": 0}


@pytest.mark.parametrize(("cap", "passes"), [(None, True), (150_000, True), (149_999, False)])
def test_max_hourly_cost(cap: int | None, passes: bool) -> None:
    target = cluster("c")
    wl = workload(placement=PlacementSpec(max_hourly_cost=cap))
    state = state_for(wl, target)
    plugin = max_hourly_cost.new({})
    assert (plugin.filter(state, target) is None) == passes
    assert (plugin.check(state, {"c": 3}) is None) == passes


BUDGET = """
apiVersion: placer/v1
kind: BudgetPolicy
metadata: {{name: payments}}
spec: {{team: payments, currency: USD, mode: {mode}, {limit}}}
"""


@pytest.mark.parametrize(
    ("limit", "mode", "others", "passes"),
    [
        ("monthly: 110", "enforce", (), True),
        ("monthly: 109", "enforce", (), False),
        ("monthly: 109", "audit", (), True),
        ("monthly: 200", "enforce", (workload("api", current={"c": 3}),), False),
        ("workloadHourly: '0.15'", "enforce", (), True),
        ("workloadHourly: '0.14'", "enforce", (), False),
    ],
)
def test_budgets(limit: str, mode: str, others: tuple[WorkloadSpec, ...], passes: bool) -> None:
    target = cluster("c")
    state = state_for(workload(), target, others=others, text=BUDGET.format(limit=limit, mode=mode))
    status = budgets.new({}).check(state, {"c": 3})
    assert (status is None) == passes
    if status is not None:
        assert "payments" in status.message


def test_budget_audit_breach_is_noted() -> None:
    target = cluster("c")
    state = state_for(workload(), target, text=BUDGET.format(limit="monthly: 1", mode="audit"))
    assert budgets.new({}).check(state, {"c": 3}) is None
    assert state.data["Budgets.audit"]
