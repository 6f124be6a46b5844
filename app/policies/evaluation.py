"""Evaluating policy documents for one workload and one cluster at a time.

:class:`PolicySet` is built once from parsed documents and shared by every decision. For a
workload it first resolves which placement policies apply (their ``match``) and which
exceptions cover it, then answers per cluster. A ``require`` rule that cannot be evaluated
(missing field, type error) counts as violated: it fails closed and says why.
"""

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.policies.documents import (
    BudgetPolicy,
    Mode,
    PlacementPolicy,
    PolicyDocument,
    PolicyException,
    Rule,
    parse_documents,
)
from app.policies.expressions import EvaluationError, Expression
from app.policies.variables import Facts, cluster_facts, workload_facts
from app.scheduling.types import ClusterSnapshot, WorkloadSpec

_CLASSES_PER_CLUSTER = 64


@dataclass(frozen=True)
class RuleVerdict:
    """A ``require`` rule that a cluster does not satisfy (or could not be evaluated for).

    ``excepted_by`` names the exception that waives it; ``error`` is set when it failed
    closed. Only an enforced, unexcepted verdict blocks a placement (see :attr:`blocks`).
    """

    policy: str
    rule: str
    mode: Mode
    message: str
    error: str | None = None
    excepted_by: str | None = None

    @property
    def blocks(self) -> bool:
        """Whether this verdict keeps the workload off the cluster."""
        return self.mode is Mode.ENFORCE and self.excepted_by is None

    def describe(self) -> str:
        """One sentence for people."""
        text = f"{self.policy}/{self.rule}: {self.message}"
        if self.error:
            text += f" (could not evaluate, failing closed: {self.error})"
        if self.excepted_by:
            text += f" (waived by exception {self.excepted_by})"
        elif self.mode is Mode.AUDIT:
            text += " (audit only)"
        return text


@dataclass(frozen=True)
class AppliedRule:
    """A rule of a policy that applies to the workload, with the exception waiving it if any."""

    policy: PlacementPolicy
    rule: Rule
    excepted_by: str | None
    workload_key: tuple[object, ...]


@dataclass(frozen=True)
class AppliedPolicies:  # not slotted: caches its keys in __dict__
    """The rules that apply to one workload, split by kind, plus notes about matching."""

    require: tuple[AppliedRule, ...]
    prefer: tuple[AppliedRule, ...]
    notes: tuple[str, ...]
    workload: Facts

    @property
    def require_key(self) -> tuple[object, ...]:
        """Identifies what the ``require`` verdicts depend on besides the cluster."""
        return _applied_key(self, "require", self.require)

    @property
    def prefer_key(self) -> tuple[object, ...]:
        """Identifies what the ``prefer`` score depends on besides the cluster."""
        return _applied_key(self, "prefer", self.prefer)

    @property
    def prefer_weight_total(self) -> int:
        """The score a cluster gets when every preference holds."""
        return sum(applied.rule.weight for applied in self.prefer)


class PolicySet:
    """Compiled policy documents: placement policies, budgets and exceptions.

    Example::

        >>> policies = PolicySet.from_text(open("policies/restricted-data-onprem.yaml").read())
        >>> applied = policies.applicable(workload, now)
        >>> policies.violations(applied, cluster)
        ()
    """

    def __init__(self, documents: Iterable[PolicyDocument] = ()) -> None:
        self.documents: tuple[PolicyDocument, ...] = tuple(documents)
        self.placement = tuple(d for d in self.documents if isinstance(d, PlacementPolicy))
        self.budgets = tuple(d for d in self.documents if isinstance(d, BudgetPolicy))
        self.exceptions = tuple(d for d in self.documents if isinstance(d, PolicyException))
        self._cache: weakref.WeakKeyDictionary[ClusterSnapshot, dict[tuple[object, ...], object]]
        self._cache = weakref.WeakKeyDictionary()

    @classmethod
    def from_text(cls, *texts: str) -> "PolicySet":
        """Parse and compile YAML texts (each may hold several documents)."""
        return cls(document for text in texts for document in parse_documents(text))

    def versions(self) -> dict[str, str]:
        """Return ``kind/name`` → version of every document, for the decision record."""
        return {f"{d.kind}/{d.name}": d.version for d in self.documents}

    def sources(self) -> list[str]:
        """Return each document's canonical YAML, enough to rebuild this set."""
        return [d.source for d in self.documents]

    @classmethod
    def from_sources(cls, sources: Sequence[str]) -> "PolicySet":
        """Inverse of :meth:`sources`."""
        return cls.from_text(*sources)

    def applicable(self, workload: WorkloadSpec, now: datetime) -> AppliedPolicies:
        """Resolve which rules apply to ``workload`` and which exceptions waive them at ``now``.

        A ``match`` that reads a missing label does not match; one that fails otherwise
        applies the policy (fail closed) and adds a note.
        """
        require: list[AppliedRule] = []
        prefer: list[AppliedRule] = []
        notes: list[str] = []
        wfacts = workload_facts(workload)
        exceptions = [
            e
            for e in self.exceptions
            if e.covers(workload.namespace, workload.name, workload.labels, now)
        ]
        for policy in self.placement:
            if not _matches(policy, workload, notes):
                continue
            for rule in policy.rules:
                waiver = next(
                    (
                        e.name
                        for e in exceptions
                        if e.policy == policy.name and (not e.rules or rule.name in e.rules)
                    ),
                    None,
                )
                key = wfacts.key(rule.expression.workload_fields)
                applied = AppliedRule(policy, rule, waiver, key)
                (require if rule.require is not None else prefer).append(applied)
        return AppliedPolicies(tuple(require), tuple(prefer), tuple(notes), wfacts)

    def violations(
        self, applied: AppliedPolicies, cluster: ClusterSnapshot
    ) -> tuple[RuleVerdict, ...]:
        """Return the ``require`` rules ``cluster`` breaks (empty: all hold), memoized per
        cluster object and workload class."""
        if not applied.require:
            return ()
        cached = self._per_cluster(cluster)
        key = applied.require_key
        found = cached.get(key)
        if found is None:
            found = _violations(applied, cluster_facts(cluster))
            cached[key] = found
        verdicts: tuple[RuleVerdict, ...] = found  # type: ignore[assignment]
        return verdicts

    def preference(self, applied: AppliedPolicies, cluster: ClusterSnapshot) -> int:
        """Return the summed weight of enforced ``prefer`` rules ``cluster`` satisfies."""
        if not applied.prefer:
            return 0
        cached = self._per_cluster(cluster)
        key = applied.prefer_key
        earned = cached.get(key)
        if earned is None:
            earned = _preference(applied, cluster_facts(cluster))
            cached[key] = earned
        total: int = earned  # type: ignore[assignment]
        return total

    def _per_cluster(self, cluster: ClusterSnapshot) -> dict[tuple[object, ...], object]:
        cached = self._cache.get(cluster)
        if cached is None or len(cached) > _CLASSES_PER_CLUSTER:
            cached = {}
            self._cache[cluster] = cached
        return cached

    def budgets_for(self, workload: WorkloadSpec) -> list[BudgetPolicy]:
        """Return the budgets that cover ``workload`` (its team's, and matching ones)."""
        found: list[BudgetPolicy] = []
        for budget in self.budgets:
            if budget.team and budget.team != workload.team:
                continue
            if budget.match is not None:
                try:
                    if not _truth(budget.match, workload, None):
                        continue
                except EvaluationError as exc:
                    if exc.missing_key:
                        continue
            found.append(budget)
        return found


def _applied_key(
    applied: AppliedPolicies, kind: str, rules: tuple[AppliedRule, ...]
) -> tuple[object, ...]:
    slot = f"_{kind}_key"
    key: tuple[object, ...] | None = applied.__dict__.get(slot)
    if key is None:
        key = (kind, *((id(a.rule), a.excepted_by, a.workload_key) for a in rules))
        applied.__dict__[slot] = key
    return key


def _violations(applied: AppliedPolicies, cfacts: Facts) -> tuple[RuleVerdict, ...]:
    found: list[RuleVerdict] = []
    for item in applied.require:
        expression = item.rule.expression
        error = None
        try:
            if _truth_facts(expression, item.workload_key, applied.workload, cfacts):
                continue
        except EvaluationError as exc:
            error = str(exc)
        found.append(
            RuleVerdict(
                item.policy.name,
                item.rule.name,
                item.policy.mode,
                item.rule.message,
                error,
                item.excepted_by,
            )
        )
    return tuple(found)


def _preference(applied: AppliedPolicies, cfacts: Facts) -> int:
    earned = 0
    for item in applied.prefer:
        if item.policy.mode is not Mode.ENFORCE:
            continue
        try:
            if _truth_facts(item.rule.expression, item.workload_key, applied.workload, cfacts):
                earned += item.rule.weight
        except EvaluationError:
            continue
    return earned


def _truth_facts(
    expression: Expression, workload_key: tuple[object, ...], wfacts: Facts, cfacts: Facts
) -> bool:
    value = expression.evaluate_facts(
        workload_key, wfacts, cfacts if expression.reads_cluster else None
    )
    if not isinstance(value, bool):
        raise EvaluationError(f"evaluated to {type(value).__name__} {value!r}, not a bool")
    return value


def _truth(expression: Expression, workload: WorkloadSpec, cluster: ClusterSnapshot | None) -> bool:
    value = expression.evaluate(workload, cluster)
    if not isinstance(value, bool):
        raise EvaluationError(f"evaluated to {type(value).__name__} {value!r}, not a bool")
    return value


def _matches(policy: PlacementPolicy, workload: WorkloadSpec, notes: list[str]) -> bool:
    if policy.match is None:
        return True
    try:
        return _truth(policy.match, workload, None)
    except EvaluationError as exc:
        if exc.missing_key:
            return False
        notes.append(f"{policy.name}: match could not be evaluated ({exc}); applying it")
        return True
