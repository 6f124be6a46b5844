"""Properties over random fleets, policies and workloads (hypothesis).

No decision places a replica on a cluster that breaks an enforced ``require`` rule, exceeds
any capacity or ignores a taint; every placed decision places exactly its replicas; a
serialized decision replays to the same outcome.
"""

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.kubetypes.taints import Taint, TaintEffect, Toleration, untolerated_taints
from app.policies import PolicySet
from app.scheduling.decision import Decision
from app.scheduling.plugins.capacity_fit import fit_replicas
from app.scheduling.registry import DEFAULT_PROFILE
from app.scheduling.replay import replay
from app.scheduling.scheduler import Scheduler
from app.scheduling.types import (
    CPU,
    GIB,
    MEMORY,
    ClusterKind,
    ClusterSnapshot,
    ClusterState,
    InventorySnapshot,
    PlacementSpec,
    Resources,
    Strategy,
    WorkloadSpec,
)
from tests.unit.scheduling.factories import NOW, iaas_price, onprem_price

RULES = [
    'cluster.country == "JP"',
    'cluster.kind == "onprem"',
    '"EU" in cluster.jurisdictions',
    'cluster.labels["tier"] == "gold"',
    'workload.labels["data-class"] != "personal" || cluster.country == "JP"',
    'cluster.capacity["cpu"] >= 16000',
]
COUNTRIES = {"JP": {"JP"}, "DE": {"EU", "EEA"}, "US": {"US"}}
TAINT = Taint("dedicated", "ml", TaintEffect.NO_SCHEDULE)

clusters_strategy = st.lists(
    st.builds(
        lambda i, kind, country, cpu, used, tier, state, tainted: ClusterSnapshot(
            name=f"c{i}",
            kind=kind,
            provider="p",
            region="r",
            country=country,
            jurisdictions=frozenset(COUNTRIES[country]),
            price=onprem_price() if kind is ClusterKind.ONPREM else iaas_price(),
            zones=(f"z{i % 3}",),
            labels={"tier": tier} if tier else {},
            taints=(TAINT,) if tainted else (),
            state=state,
            capacity=Resources({CPU: cpu * 1000, MEMORY: cpu * 4 * GIB}),
            allocated=Resources({CPU: min(used, cpu) * 1000}),
        ),
        i=st.just(0),
        kind=st.sampled_from(list(ClusterKind)),
        country=st.sampled_from(sorted(COUNTRIES)),
        cpu=st.integers(1, 32),
        used=st.integers(0, 32),
        tier=st.sampled_from(["gold", "silver", None]),
        state=st.sampled_from([ClusterState.READY, ClusterState.READY, ClusterState.CORDONED]),
        tainted=st.booleans(),
    ),
    min_size=1,
    max_size=12,
).map(lambda cs: tuple(replace(c, name=f"c{i}") for i, c in enumerate(cs)))

workloads_strategy = st.builds(
    lambda replicas, cpu, strategy, n, personal, tolerate: WorkloadSpec(
        name="w",
        namespace="ns",
        team="t",
        replicas=replicas,
        requests=Resources({CPU: cpu, MEMORY: GIB}),
        labels={"data-class": "personal" if personal else "public"},
        placement=PlacementSpec(
            strategy=strategy,
            min_spread=n,
            copies=n,
            tolerations=(Toleration("dedicated", "Exists"),) if tolerate else (),
        ),
    ),
    replicas=st.integers(1, 12),
    cpu=st.sampled_from([250, 1000, 4000]),
    strategy=st.sampled_from(list(Strategy)),
    n=st.integers(1, 3),
    personal=st.booleans(),
    tolerate=st.booleans(),
)

policies_strategy = st.lists(
    st.tuples(st.sampled_from(RULES), st.sampled_from(["enforce", "audit"])),
    max_size=3,
).map(
    lambda picked: PolicySet.from_text(
        *(
            f"apiVersion: placer/v1\nkind: PlacementPolicy\nmetadata: {{name: p{i}}}\n"
            f"spec:\n  mode: {mode}\n  rules:\n    - require: '{rule}'\n"
            for i, (rule, mode) in enumerate(picked)
        )
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters=clusters_strategy, workload=workloads_strategy, policies=policies_strategy)
def test_decisions_respect_policies_capacity_and_taints(
    clusters: tuple[ClusterSnapshot, ...], workload: WorkloadSpec, policies: PolicySet
) -> None:
    snapshot = InventorySnapshot(clusters, (), NOW)
    decision = Scheduler(DEFAULT_PROFILE, policies).decide(snapshot, workload, NOW)
    applied = policies.applicable(workload, NOW)
    by_name = snapshot.by_name()
    for name, replicas in decision.assignment.items():
        target = by_name[name]
        assert replicas > 0
        assert target.state is ClusterState.READY
        assert not any(v.blocks for v in policies.violations(applied, target))
        assert fit_replicas(target, workload.replica_demand) >= replicas
        assert not untolerated_taints(workload.placement.tolerations, target.taints)
    if decision.placed:
        expected = workload.replicas
        if workload.placement.strategy is Strategy.DUPLICATED:
            assert len(decision.assignment) == workload.placement.copies
            assert set(decision.assignment.values()) == {expected}
        else:
            assert sum(decision.assignment.values()) == expected
    else:
        assert decision.assignment == {}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters=clusters_strategy, workload=workloads_strategy, policies=policies_strategy)
def test_serialized_decisions_replay_to_the_same_outcome(
    clusters: tuple[ClusterSnapshot, ...], workload: WorkloadSpec, policies: PolicySet
) -> None:
    snapshot = InventorySnapshot(clusters, (), NOW)
    decision = Scheduler(DEFAULT_PROFILE, policies).decide(snapshot, workload, NOW)
    restored = Decision.from_json(decision.to_json())
    assert replay(restored).outcome() == decision.outcome()
