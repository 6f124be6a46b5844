"""Explanations stay complete however they are computed: every cluster has a verdict, every
feasible one a score from every plugin of the profile, including plugins that had nothing to
tell clusters apart."""

from app.policies import PolicySet
from app.scheduling.registry import DEFAULT_PROFILE
from app.scheduling.scheduler import Scheduler
from app.scheduling.types import ClusterState, PlacementSpec, Strategy
from tests.unit.scheduling.factories import NOW, cluster, snapshot, workload


def test_every_feasible_cluster_lists_every_score_plugin() -> None:
    fleet = snapshot(cluster("a"), cluster("b"), cluster("c", state=ClusterState.DRAINING))
    wl = workload(replicas=4, placement=PlacementSpec(strategy=Strategy.DIVIDED))
    decision = Scheduler(DEFAULT_PROFILE, PolicySet()).decide(fleet, wl, NOW)
    assert [v.cluster for v in decision.verdicts] == ["a", "b", "c"]
    plugins = {name for name, _ in DEFAULT_PROFILE.scores}
    a, b, c = decision.verdicts
    for feasible in (a, b):
        assert feasible.scores is not None
        assert set(feasible.scores) == plugins
        assert feasible.scores["Stickiness"] == 0
        assert feasible.scores["WorkloadAffinity"] == 100
        assert feasible.scores["PolicyPrefer"] == 0
        assert feasible.total == sum(feasible.scores[p] * w for p, w in DEFAULT_PROFILE.scores)
    assert c.scores is None
    assert c.total is None
    assert c.rejection is not None
    assert c.rejection.plugin == "ClusterState"


def test_stickiness_scores_the_current_clusters_when_the_workload_runs_somewhere() -> None:
    fleet = snapshot(cluster("a"), cluster("b"))
    wl = workload(current={"b": 3})
    decision = Scheduler(DEFAULT_PROFILE, PolicySet()).decide(fleet, wl, NOW)
    stickiness = {v.cluster: (v.scores or {})["Stickiness"] for v in decision.verdicts}
    assert stickiness == {"a": 0, "b": 100}
    assert decision.assignment == {"b": 3}
