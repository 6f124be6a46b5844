"""Evaluating policies: fail closed, audit mode, exceptions with expiry, memoized results."""

import gc
import weakref
from datetime import timedelta

import pytest

from app.policies import PolicySet
from app.policies.documents import Mode
from app.policies.expressions import EvaluationError, compile_expression
from app.scheduling.types import ClusterKind
from tests.unit.scheduling.factories import NOW, cluster, workload

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
    - name: onprem
      prefer: cluster.kind == "onprem"
      weight: 20
"""
PERSONAL = {"data-class": "personal"}


def test_require_rule_rejects_only_clusters_that_break_it() -> None:
    policies = PolicySet.from_text(JAPAN.replace("MODE", "enforce"))
    applied = policies.applicable(workload(labels=PERSONAL), NOW)
    assert policies.violations(applied, cluster("tokyo")) == ()
    [verdict] = policies.violations(applied, cluster("frankfurt", country="DE"))
    assert (verdict.policy, verdict.rule, verdict.blocks) == ("japan", "in-japan", True)
    assert verdict.message == "personal data must stay in Japan"


def test_match_on_a_missing_label_does_not_apply_the_policy() -> None:
    policies = PolicySet.from_text(JAPAN.replace("MODE", "enforce"))
    applied = policies.applicable(workload(labels={}), NOW)
    assert applied.require == ()
    assert policies.violations(applied, cluster("frankfurt", country="DE")) == ()


def test_audit_mode_reports_but_does_not_block() -> None:
    policies = PolicySet.from_text(JAPAN.replace("MODE", "audit"))
    applied = policies.applicable(workload(labels=PERSONAL), NOW)
    [verdict] = policies.violations(applied, cluster("frankfurt", country="DE"))
    assert verdict.mode is Mode.AUDIT
    assert not verdict.blocks


def test_require_that_cannot_be_evaluated_fails_closed_with_the_reason() -> None:
    policies = PolicySet.from_text(
        JAPAN.replace("MODE", "enforce").replace(
            'cluster.country == "JP"', 'cluster.labels["residency"] == "jp"'
        )
    )
    applied = policies.applicable(workload(labels=PERSONAL), NOW)
    [verdict] = policies.violations(applied, cluster("tokyo"))
    assert verdict.blocks
    assert verdict.error is not None
    assert "residency" in verdict.error
    assert policies.violations(applied, cluster("t2", labels={"residency": "jp"})) == ()


def test_type_error_fails_closed() -> None:
    policies = PolicySet.from_text(
        JAPAN.replace("MODE", "enforce").replace('cluster.country == "JP"', "cluster.country + 1")
    )
    applied = policies.applicable(workload(labels=PERSONAL), NOW)
    [verdict] = policies.violations(applied, cluster("tokyo"))
    assert verdict.blocks
    assert verdict.error


def test_exception_waives_a_rule_until_it_expires() -> None:
    expires = NOW + timedelta(days=1)
    exception = f"""
apiVersion: placer/v1
kind: PolicyException
metadata: {{name: migration-window}}
spec:
  policy: japan
  rules: [in-japan]
  namespace: default
  workload: web
  reason: data migration to Frankfurt
  ticket: SEC-42
  approver: dpo@example.com
  expires: {expires.isoformat()}
"""
    policies = PolicySet.from_text(JAPAN.replace("MODE", "enforce"), exception)
    frankfurt = cluster("frankfurt", country="DE")
    before = policies.applicable(workload(labels=PERSONAL), NOW)
    [waived] = policies.violations(before, frankfurt)
    assert waived.excepted_by == "migration-window"
    assert not waived.blocks
    after = policies.applicable(workload(labels=PERSONAL), expires)
    [blocking] = policies.violations(after, frankfurt)
    assert blocking.blocks
    other = policies.applicable(workload("api", labels=PERSONAL), NOW)
    assert policies.violations(other, frankfurt)[0].blocks


def test_preference_counts_only_satisfied_weights() -> None:
    policies = PolicySet.from_text(JAPAN.replace("MODE", "enforce"))
    applied = policies.applicable(workload(labels=PERSONAL), NOW)
    assert policies.preference(applied, cluster("dc", kind=ClusterKind.ONPREM)) == 20
    assert policies.preference(applied, cluster("aws")) == 0


def test_memoized_results_follow_the_cluster_values() -> None:
    policies = PolicySet.from_text(JAPAN.replace("MODE", "enforce"))
    applied = policies.applicable(workload(labels=PERSONAL), NOW)
    verdicts = [
        bool(policies.violations(applied, cluster(f"c{i}", country=country)))
        for i, country in enumerate(["JP", "DE", "JP", "US", "DE", "JP"])
    ]
    assert verdicts == [False, True, False, True, True, False]


def test_budgets_cover_their_team_only() -> None:
    budget = """
apiVersion: placer/v1
kind: BudgetPolicy
metadata: {name: b}
spec: {team: payments, currency: USD, monthly: 100}
"""
    policies = PolicySet.from_text(budget)
    assert [b.name for b in policies.budgets_for(workload(team="payments"))] == ["b"]
    assert policies.budgets_for(workload(team="search")) == []


def test_a_failing_evaluation_keeps_none_of_its_callers_alive() -> None:
    expression = compile_expression('cluster.labels["residency"] == "jp"')

    class Caller:
        """Stands for what a decision holds while it evaluates: snapshots, sessions."""

    def decide() -> weakref.ref[Caller]:
        caller = Caller()
        with pytest.raises(EvaluationError):
            expression.evaluate(workload(), cluster("tokyo"))
        return weakref.ref(caller)

    first, second = decide(), decide()
    gc.collect()
    assert first() is None
    assert second() is None
