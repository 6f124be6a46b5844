"""The scheduler end to end: explanations, costs, remedies, runs of decisions, replay."""

from pathlib import Path

from app.kubetypes.taints import Taint, TaintEffect
from app.policies import PolicySet, load_directory
from app.scheduling.decision import Decision
from app.scheduling.registry import DEFAULT_PROFILE
from app.scheduling.replay import replay
from app.scheduling.scheduler import Scheduler
from app.scheduling.types import (
    CPU,
    GIB,
    HOURS_PER_MONTH,
    MEMORY,
    ClusterKind,
    ClusterState,
    PlacementSpec,
    Resources,
    Strategy,
)
from tests.unit.scheduling.factories import NOW, cluster, snapshot, workload

POLICIES = PolicySet(load_directory(Path(__file__).resolve().parents[3] / "policies"))
JAPANESE_PERSONAL = {"data-class": "personal", "customer-region": "jp"}


def scheduler() -> Scheduler:
    return Scheduler(DEFAULT_PROFILE, POLICIES)


def test_summary_counts_rejections_by_cause() -> None:
    small = Resources({CPU: 2000, MEMORY: 64 * GIB})
    fleet = snapshot(
        *(cluster(f"eu-{i}", country="DE") for i in range(7)),
        *(cluster(f"jp-{i}", capacity=small) for i in range(5)),
    )
    wl = workload(replicas=4, labels=JAPANESE_PERSONAL)
    decision = scheduler().decide(fleet, wl, NOW)
    assert not decision.placed
    assert decision.summary == (
        "0/12 clusters fit: 7 rejected by personal-data-stays-in-japan, 5 lack 4 CPU"
    )
    assert decision.remedies[0] == "jp-0: 2 CPU more free capacity on jp-0"
    rejected = {v.cluster: v.rejection for v in decision.verdicts}
    eu = rejected["eu-0"]
    assert eu is not None
    assert eu.plugin == "PolicyRequire"
    assert "personal data must stay in Japan" in eu.message


def test_placed_decision_explains_scores_cost_and_alternative() -> None:
    fleet = snapshot(
        cluster("tokyo-dc", kind=ClusterKind.ONPREM),
        cluster("tokyo-aws"),
        cluster("frankfurt", country="DE"),
    )
    decision = scheduler().decide(fleet, workload(labels=JAPANESE_PERSONAL), NOW)
    assert decision.assignment == {"tokyo-dc": 3}
    assert decision.summary.startswith("2/3 clusters fit: 1 rejected by personal-data")
    verdicts = {v.cluster: v for v in decision.verdicts}
    assert verdicts["tokyo-dc"].scores is not None
    assert verdicts["tokyo-dc"].scores["PolicyPrefer"] == 100
    assert verdicts["tokyo-aws"].scores is not None
    assert verdicts["tokyo-aws"].scores["PolicyPrefer"] == 0
    assert decision.cost is not None
    assert decision.cost.marginal_hourly == 0
    assert decision.cost.monthly == decision.cost.hourly * HOURS_PER_MONTH
    assert decision.alternative is not None
    assert decision.alternative.assignment == {"tokyo-aws": 3}
    assert decision.alternative.cost.hourly == 150_000


def test_capacity_consumed_by_earlier_decisions_counts() -> None:
    fleet = snapshot(cluster("a", capacity=Resources({CPU: 4000, MEMORY: 64 * GIB})))
    first, second = scheduler().decide_many(
        fleet, [workload("one", replicas=3), workload("two", replicas=3)], NOW
    )
    assert first.placed
    assert not second.placed
    assert "lack 3 CPU" in second.summary


def test_budget_refusal_falls_back_to_the_cheapest_compliant_placement() -> None:
    onprem = cluster(
        "dc", kind=ClusterKind.ONPREM, capacity=Resources({CPU: 2000, MEMORY: 8 * GIB})
    )
    fleet = snapshot(onprem, cluster("aws"))
    budget = PolicySet.from_text(
        "apiVersion: placer/v1\nkind: BudgetPolicy\nmetadata: {name: tight}\n"
        "spec: {team: payments, currency: USD, workloadHourly: '0.10'}\n"
    )
    wl = workload(replicas=3, placement=PlacementSpec(strategy=Strategy.SPREAD, min_spread=2))
    decision = Scheduler(DEFAULT_PROFILE, budget).decide(fleet, wl, NOW)
    assert not decision.placed
    assert "tight" in decision.summary
    assert decision.alternative is not None
    assert "also refused" in decision.alternative.description


def test_cordoned_and_tainted_clusters_are_never_chosen() -> None:
    fleet = snapshot(
        cluster("cordoned", state=ClusterState.CORDONED),
        cluster("gpu", taints=(Taint("gpu", "true", TaintEffect.NO_SCHEDULE),)),
        cluster("ok"),
    )
    decision = scheduler().decide(fleet, workload(), NOW)
    assert decision.assignment == {"ok": 3}


def test_feasible_clusters_ignore_capacity_but_apply_policies() -> None:
    full = cluster("jp-full", allocated=Resources({CPU: 64_000}))
    fleet = snapshot(full, cluster("de", country="DE"))
    result = scheduler().feasible_clusters(fleet, workload(labels=JAPANESE_PERSONAL), NOW)
    assert [c.name for c in result.feasible] == ["jp-full"]
    assert result.rejected["de"].plugin == "PolicyRequire"


def test_decision_round_trips_through_json_and_replays_identically() -> None:
    fleet = snapshot(
        cluster("a"), cluster("b", kind=ClusterKind.ONPREM), cluster("c", country="DE")
    )
    wl = workload(replicas=7, placement=PlacementSpec(strategy=Strategy.DIVIDED))
    decision = scheduler().decide(fleet, wl, NOW)
    restored = Decision.from_json(decision.to_json())
    assert restored.to_json() == decision.to_json()
    assert replay(restored).outcome() == decision.outcome()
    assert restored.policy_versions == POLICIES.versions()


def test_invalid_workload_is_refused_in_words() -> None:
    decision = scheduler().decide(snapshot(cluster("a")), workload(replicas=0), NOW)
    assert not decision.placed
    assert "no replicas" in decision.summary
