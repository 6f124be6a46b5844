"""The bridge: the core's filters and cost model in, replicas per cluster name out."""

from app.policies.evaluation import PolicySet
from app.scheduling.optimizer import SolveStatus
from app.scheduling.optimizer.from_snapshot import build_problem, place_batch
from app.scheduling.scheduler import Scheduler
from app.scheduling.types import CPU, GIB, MEMORY, ClusterKind, InventorySnapshot, Resources
from tests.unit.scheduling.factories import NOW, cluster, snapshot, workload

STAYS_IN_JAPAN = """
apiVersion: placer/v1
kind: PlacementPolicy
metadata: {name: personal-data-stays-in-japan}
spec:
  mode: enforce
  match: workload.labels["data-class"] == "personal"
  rules:
    - require: cluster.country == "JP"
      message: personal data must stay in Japan
"""


def _fleet() -> tuple[Scheduler, InventorySnapshot]:
    fleet = snapshot(
        cluster(
            "onprem-tokyo",
            kind=ClusterKind.ONPREM,
            capacity=Resources({CPU: 8_000, MEMORY: 32 * GIB}),
        ),
        cluster("aws-tokyo", capacity=Resources({CPU: 4_000, MEMORY: 16 * GIB})),
        cluster("aws-frankfurt", country="DE"),
    )
    return Scheduler(policies=PolicySet.from_text(STAYS_IN_JAPAN)), fleet


def test_residency_policy_becomes_a_domain_restriction_with_the_core_reason() -> None:
    scheduler, fleet = _fleet()
    personal = workload("crm", labels={"data-class": "personal"})

    built = build_problem(scheduler, fleet, [personal], NOW)

    assert built.problem.allowed.tolist() == [[True, True, False]]
    assert "personal data must stay in Japan" in built.rejected[0]["aws-frankfurt"]
    assert built.problem.unit_cost[0, 0] == 0
    assert built.problem.unit_cost[0, 1] > 0


def test_joint_placement_gives_prepaid_capacity_to_the_workload_pinned_to_japan() -> None:
    scheduler, fleet = _fleet()
    big = workload("batch", replicas=6)
    personal = workload("crm", replicas=5, labels={"data-class": "personal"})

    answer = place_batch(scheduler, fleet, [big, personal], NOW)

    by_name = {p.workload: p for p in answer.placements}
    assert by_name["default/crm"].assignment == {"onprem-tokyo": 5}
    assert by_name["default/batch"].assignment == {"aws-frankfurt": 6}
    assert answer.result.status is SolveStatus.OPTIMAL
    assert answer.result.greedy_unplaced == 1


def test_unplaceable_workload_names_the_policy_and_the_missing_capacity() -> None:
    scheduler, fleet = _fleet()
    huge = workload("crm", replicas=20, labels={"data-class": "personal"})

    answer = place_batch(scheduler, fleet, [huge], NOW)

    (placement,) = answer.placements
    assert placement.assignment == {}
    assert answer.result.status is SolveStatus.INFEASIBLE
    assert "personal data must stay in Japan" in placement.reasons["aws-frankfurt"]
    assert placement.reasons["onprem-tokyo"].startswith("insufficient cpu")
