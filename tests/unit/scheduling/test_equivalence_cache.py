"""Reused static filter verdicts must follow everything they depend on.

One scheduler decides workload after workload over the same snapshot, so the second decision
of each test is served from the equivalence cache; it must still see what changed.
"""

import gc
import weakref
from collections.abc import Iterable
from datetime import timedelta

from app.kubetypes.taints import Taint, TaintEffect, Toleration
from app.policies import PolicySet
from app.scheduling.decision import ClusterVerdict
from app.scheduling.equivalence import CLASSES_PER_SNAPSHOT, EquivalenceCache
from app.scheduling.registry import DEFAULT_PROFILE
from app.scheduling.scheduler import Scheduler
from app.scheduling.types import ClusterState, PlacementSpec
from tests.unit.scheduling.factories import NOW, cluster, snapshot, workload

JAPAN = """
apiVersion: placer/v1
kind: PlacementPolicy
metadata: {name: japan}
spec:
  mode: MODE
  match: workload.labels["data-class"] == "personal"
  rules:
    - name: in-japan
      require: cluster.country == "JP"
      message: personal data must stay in Japan
"""
PERSONAL = {"data-class": "personal"}


def japan(mode: str = "enforce", exception_expires: str = "") -> PolicySet:
    texts = [JAPAN.replace("MODE", mode)]
    if exception_expires:
        texts.append(
            "apiVersion: placer/v1\nkind: PolicyException\nmetadata: {name: migration}\n"
            "spec: {policy: japan, namespace: default, workload: web, reason: move, "
            f"ticket: T-1, approver: dpo@example.com, expires: '{exception_expires}'}}\n"
        )
    return PolicySet.from_text(*texts)


def rejections(verdicts: Iterable[ClusterVerdict]) -> dict[str, str | None]:
    """Cluster → the plugin that rejected it (``None``: feasible)."""
    return {v.cluster: None if v.rejection is None else v.rejection.plugin for v in verdicts}


def test_tolerations_are_part_of_the_class() -> None:
    fleet = snapshot(cluster("gpu", taints=(Taint("gpu", "true", TaintEffect.NO_SCHEDULE),)))
    scheduler = Scheduler(DEFAULT_PROFILE, PolicySet())
    assert not scheduler.decide(fleet, workload(), NOW).placed
    tolerant = PlacementSpec(tolerations=(Toleration("gpu", "Equal", "true"),))
    assert scheduler.decide(fleet, workload(placement=tolerant), NOW).assignment == {"gpu": 3}
    assert not scheduler.decide(fleet, workload("other"), NOW).placed


def test_matching_policies_are_part_of_the_class() -> None:
    fleet = snapshot(cluster("tokyo"), cluster("frankfurt", country="DE"))
    scheduler = Scheduler(DEFAULT_PROFILE, japan())
    personal = scheduler.decide(fleet, workload(labels=PERSONAL), NOW)
    public = scheduler.decide(fleet, workload(labels={"data-class": "public"}), NOW)
    assert rejections(personal.verdicts) == {"tokyo": None, "frankfurt": "PolicyRequire"}
    assert rejections(public.verdicts) == {"tokyo": None, "frankfurt": None}


def test_an_expired_exception_no_longer_waives_the_rule() -> None:
    expires = NOW + timedelta(days=1)
    fleet = snapshot(cluster("frankfurt", country="DE"))
    scheduler = Scheduler(DEFAULT_PROFILE, japan(exception_expires=expires.isoformat()))
    assert scheduler.decide(fleet, workload(labels=PERSONAL), NOW).placed
    later = scheduler.decide(fleet, workload(labels=PERSONAL), expires)
    assert rejections(later.verdicts) == {"frankfurt": "PolicyRequire"}


def test_a_new_snapshot_is_filtered_afresh() -> None:
    scheduler = Scheduler(DEFAULT_PROFILE, PolicySet())
    assert scheduler.decide(snapshot(cluster("a")), workload(), NOW).placed
    cordoned = snapshot(cluster("a", state=ClusterState.CORDONED))
    assert rejections(scheduler.decide(cordoned, workload(), NOW).verdicts) == {"a": "ClusterState"}


def test_audit_findings_are_reported_on_every_decision() -> None:
    fleet = snapshot(cluster("frankfurt", country="DE"))
    scheduler = Scheduler(DEFAULT_PROFILE, japan(mode="audit"))
    first, second = (scheduler.decide(fleet, workload(labels=PERSONAL), NOW) for _ in range(2))
    assert first.verdicts[0].audit
    assert second.verdicts[0].audit == first.verdicts[0].audit
    assert second.notes == first.notes
    assert any("audit only" in note for note in second.notes)


def test_the_cache_is_per_snapshot_bounded_and_released_with_its_snapshot() -> None:
    cache: EquivalenceCache[list[int]] = EquivalenceCache()
    first, second = snapshot(cluster("a")), snapshot(cluster("a"))
    computed, known = cache.get(first, "key", lambda: [1])
    assert (computed, known) == ([1], False)
    assert cache.get(first, "key", lambda: [2]) == ([1], True)
    assert cache.get(second, "key", lambda: [3]) == ([3], False)
    for index in range(CLASSES_PER_SNAPSHOT):
        cache.get(first, index, lambda: [])
    assert not cache.get(first, "key", lambda: [4])[1]
    watcher = weakref.ref(second)
    del second
    gc.collect()
    assert watcher() is None
