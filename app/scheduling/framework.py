"""Plugin interfaces, the per-decision cycle state, profiles, and the framework that runs them.

As in the kube-scheduler framework, a plugin is a small object with a ``name`` implementing
one or more extension points:

* :class:`FilterPlugin` - may a cluster take the workload at all? (``None`` means yes);
* :class:`ScorePlugin` - a raw score per feasible cluster, then normalized to 0-100;
* :class:`PlacementCheckPlugin` - is a whole assignment (cluster → replicas) acceptable?

A :class:`Profile` names the enabled plugins and the weight of each score plugin. Plugins
read only the immutable snapshot and the :class:`CycleState`; they never do I/O.

Because snapshots are immutable, results that depend only on a cluster and a few workload
fields are computed once per snapshot and class of workloads (see
:mod:`app.scheduling.equivalence`): the verdicts of static filters (:class:`StaticFilterPlugin`)
and the raw scores of :class:`MemoizableScorePlugin` plugins. A score plugin may also declare a
:meth:`~ScorePlugin.uniform_score`, so clusters it cannot tell apart are not asked one by one.
"""

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from app.policies.evaluation import AppliedPolicies, PolicySet, RuleVerdict
from app.scheduling.equivalence import EquivalenceCache
from app.scheduling.status import Status
from app.scheduling.types import (
    ClusterSnapshot,
    InventorySnapshot,
    Resources,
    Strategy,
    WorkloadSpec,
)

MAX_SCORE = 100


class CycleState:
    """Everything one decision shares between plugins: inputs, derived facts, scratch data.

    ``fit_replicas`` is filled by the capacity filter (cluster → how many replicas fit) and
    read by replica assignment; ``audit`` collects non-blocking rule verdicts per cluster.
    ``data`` is per-plugin scratch space keyed by plugin name.
    """

    def __init__(
        self,
        snapshot: InventorySnapshot,
        workload: WorkloadSpec,
        policies: PolicySet,
        now: datetime,
    ) -> None:
        self.snapshot = snapshot
        self.workload = workload
        self.policies = policies
        self.now = now
        self.demand: Resources = workload.replica_demand
        self.replicas_per_cluster = _replicas_per_cluster(workload)
        """How many replicas a cluster must hold to be of any use to this workload."""
        self.applied: AppliedPolicies = policies.applicable(workload, now)
        self.fit_replicas: dict[str, int] = {}
        self.audit: dict[str, tuple[RuleVerdict, ...]] = {}
        self.data: dict[str, Any] = {}


def _replicas_per_cluster(workload: WorkloadSpec) -> int:
    if workload.placement.strategy in (Strategy.SINGLE, Strategy.DUPLICATED):
        return workload.replicas
    return 1


@runtime_checkable
class FilterPlugin(Protocol):
    """Rejects clusters that cannot take the workload; ``static`` ones ignore capacity and
    other workloads, so the batch optimizer can reuse them to find the allowed pairs.
    Static filters implement :class:`StaticFilterPlugin`."""

    name: str
    static: bool

    def filter(self, state: CycleState, cluster: ClusterSnapshot) -> Status | None:
        """Return ``None`` when ``cluster`` passes, else why not."""


@runtime_checkable
class StaticFilterPlugin(FilterPlugin, Protocol):
    """A filter whose verdict on a cluster, and anything it records in ``state.audit``,
    depends only on the cluster and on :meth:`equivalence`.

    The framework reuses a snapshot's static verdicts for every workload with equal keys (as
    kube-scheduler's equivalence cache did), so a fleet is filtered once per class of
    workloads rather than once per decision.
    """

    def equivalence(self, state: CycleState) -> Hashable:
        """What, besides the cluster, the verdict depends on (hashable, compared by ``==``)."""


@runtime_checkable
class ScorePlugin(Protocol):
    """Ranks feasible clusters; higher is better after normalization to 0-100."""

    name: str

    def score(self, state: CycleState, cluster: ClusterSnapshot) -> float:
        """Return a raw score for ``cluster`` (any scale)."""

    def normalize(self, state: CycleState, scores: dict[str, float]) -> dict[str, int]:
        """Map raw scores to 0-100."""

    def uniform_score(self, state: CycleState) -> float | None:
        """The raw score every cluster would get, when known without looking at any (nothing
        tells clusters apart for this workload, e.g. it runs nowhere yet); else ``None``.

        Lets the framework skip the per-cluster calls; the explanation still lists the
        plugin's (normalized) score for every feasible cluster.
        """


@runtime_checkable
class MemoizableScorePlugin(ScorePlugin, Protocol):
    """A score plugin whose raw score for a cluster depends only on the cluster and on
    :meth:`equivalence`; the framework keeps raw scores per snapshot and key (normalization,
    which depends on the other feasible clusters, still runs every decision)."""

    def equivalence(self, state: CycleState) -> Hashable:
        """What, besides the cluster, the raw score depends on (hashable, compared by ``==``)."""


@runtime_checkable
class PlacementCheckPlugin(Protocol):
    """Accepts or refuses a whole assignment (costs and budgets are properties of it)."""

    name: str

    def check(self, state: CycleState, assignment: Mapping[str, int]) -> Status | None:
        """Return ``None`` when ``assignment`` is acceptable, else why not."""


def normalize_linear(scores: Mapping[str, float], *, higher_is_better: bool) -> dict[str, int]:
    """Scale raw scores so the best gets 100 and the worst 0 (all 100 when they are equal)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return dict.fromkeys(scores, MAX_SCORE)
    span = high - low
    if higher_is_better:
        return {n: round(MAX_SCORE * (s - low) / span) for n, s in scores.items()}
    return {n: round(MAX_SCORE * (high - s) / span) for n, s in scores.items()}


@dataclass(frozen=True)
class Profile:
    """The enabled plugins: filters (run in order), weighted scores and placement checks.

    ``args`` passes options to plugin factories, e.g. ``{"balance": {"mode": "binpack"}}``.
    """

    name: str
    filters: tuple[str, ...]
    scores: tuple[tuple[str, int], ...]
    checks: tuple[str, ...]
    args: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "name": self.name,
            "filters": list(self.filters),
            "scores": [{"plugin": p, "weight": w} for p, w in self.scores],
            "checks": list(self.checks),
            "args": {k: dict(v) for k, v in sorted(self.args.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Profile":
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=data["name"],
            filters=tuple(data["filters"]),
            scores=tuple((s["plugin"], int(s["weight"])) for s in data["scores"]),
            checks=tuple(data["checks"]),
            args={k: dict(v) for k, v in data.get("args", {}).items()},
        )


PluginFactory = Callable[[Mapping[str, Any]], object]


@dataclass(frozen=True)
class FilterResult:
    """Clusters that passed every filter (in snapshot order) and why each other one failed."""

    feasible: tuple[ClusterSnapshot, ...]
    rejected: Mapping[str, Status]


@dataclass(frozen=True)
class ScoreTable:
    """The feasible clusters' normalized scores, one column per score plugin (plugin →
    cluster → 0-100), and each cluster's weighted total.

    Kept by column, as plugins produce them: a decision over thousands of clusters needs a
    cluster's row only when its explanation is read.
    """

    columns: Mapping[str, Mapping[str, int]]
    totals: Mapping[str, int]

    def row(self, cluster: str) -> dict[str, int] | None:
        """Plugin → score for ``cluster``; ``None`` when it was not scored (not feasible)."""
        if cluster not in self.totals:
            return None
        return {plugin: column[cluster] for plugin, column in self.columns.items()}


@dataclass(frozen=True)
class _StaticPass:
    """The outcome of a run of static filters over a snapshot, for one equivalence class."""

    result: FilterResult
    audit: Mapping[str, tuple[RuleVerdict, ...]]


class Framework:
    """Instantiates a profile's plugins from a registry and runs them for one decision."""

    def __init__(self, profile: Profile, registry: Mapping[str, PluginFactory]) -> None:
        self.profile = profile

        def build(name: str) -> object:
            if name not in registry:
                raise ValueError(f"profile {profile.name!r} names unknown plugin {name!r}")
            return registry[name](profile.args.get(name, {}))

        self.filters: tuple[FilterPlugin, ...] = tuple(
            _typed(build(n), FilterPlugin, n) for n in profile.filters
        )
        for plugin in self.filters:
            if plugin.static:
                _typed(plugin, StaticFilterPlugin, plugin.name)
        self.scorers: tuple[tuple[ScorePlugin, int], ...] = tuple(
            (_typed(build(n), ScorePlugin, n), w) for n, w in profile.scores
        )
        self.checks: tuple[PlacementCheckPlugin, ...] = tuple(
            _typed(build(n), PlacementCheckPlugin, n) for n in profile.checks
        )
        self._static: tuple[StaticFilterPlugin, ...] = tuple(
            f for f in self.filters if isinstance(f, StaticFilterPlugin) and f.static
        )
        # Only the leading static filters are cached as a block: a cluster stops at its first
        # rejection, so whether a later static filter even runs depends on dynamic ones.
        leading = next((i for i, f in enumerate(self.filters) if not f.static), len(self.filters))
        self._static_prefix = self._static[:leading]
        self._dynamic = self.filters[leading:]
        self._static_passes: EquivalenceCache[_StaticPass] = EquivalenceCache()
        self._score_columns: EquivalenceCache[dict[str, float]] = EquivalenceCache()
        self._memoizable: dict[str, MemoizableScorePlugin] = {
            p.name: p for p, _ in self.scorers if isinstance(p, MemoizableScorePlugin)
        }

    def run_filters(self, state: CycleState, *, static_only: bool = False) -> FilterResult:
        """Run filters over the snapshot's clusters; each stops at its first rejection.

        The leading static filters' verdicts come from the equivalence cache; the rest run
        per cluster on those that pass.
        """
        if static_only:
            return self._static_pass(state, self._static).result
        static = self._static_pass(state, self._static_prefix)
        if not self._dynamic:
            return static.result
        feasible: list[ClusterSnapshot] = []
        rejected = dict(static.result.rejected)
        for cluster in static.result.feasible:
            for plugin in self._dynamic:
                status = plugin.filter(state, cluster)
                if status is not None:
                    rejected[cluster.name] = status
                    break
            else:
                feasible.append(cluster)
        return FilterResult(tuple(feasible), rejected)

    def _static_pass(
        self, state: CycleState, filters: tuple[StaticFilterPlugin, ...]
    ) -> _StaticPass:
        """Run ``filters`` (all static) over the snapshot, or reuse an earlier equal run.

        Keyed on the policy set itself (its rule ids appear in policy keys, and holding it
        keeps those ids from being reused) and every filter's equivalence key.
        """
        key = (state.policies, filters, *(f.equivalence(state) for f in filters))
        found, known = self._static_passes.get(
            state.snapshot, key, lambda: _filter_statically(state, filters)
        )
        if known:
            state.audit.update(found.audit)
        return found

    def all_rejections(self, state: CycleState, cluster: ClusterSnapshot) -> list[Status]:
        """Run every filter on ``cluster`` without stopping: all that stands in the way."""
        found: list[Status] = []
        for plugin in self.filters:
            status = plugin.filter(state, cluster)
            if status is not None:
                found.append(status)
        return found

    def run_scores(self, state: CycleState, feasible: Sequence[ClusterSnapshot]) -> "ScoreTable":
        """Score every feasible cluster with every score plugin, normalized to 0-100."""
        names = [c.name for c in feasible]
        columns: dict[str, Mapping[str, int]] = {}
        totals = dict.fromkeys(names, 0)
        for plugin, weight in self.scorers:
            uniform = plugin.uniform_score(state)
            if uniform is None:
                raw = self._raw_scores(state, plugin, feasible)
            else:
                raw = dict.fromkeys(names, uniform)
            column = plugin.normalize(state, raw)
            columns[plugin.name] = column
            if weight:
                for name, value in column.items():
                    totals[name] += value * weight
        return ScoreTable(columns, totals)

    def _raw_scores(
        self, state: CycleState, plugin: ScorePlugin, feasible: Sequence[ClusterSnapshot]
    ) -> dict[str, float]:
        memoizable = self._memoizable.get(plugin.name)
        if memoizable is None:
            return {c.name: plugin.score(state, c) for c in feasible}
        key = (state.policies, plugin, memoizable.equivalence(state))
        known, _ = self._score_columns.get(state.snapshot, key, dict)
        for cluster in feasible:
            if cluster.name not in known:
                known[cluster.name] = plugin.score(state, cluster)
        return {cluster.name: known[cluster.name] for cluster in feasible}

    def run_checks(self, state: CycleState, assignment: Mapping[str, int]) -> Status | None:
        """Return the first placement check that refuses ``assignment``."""
        for plugin in self.checks:
            status = plugin.check(state, assignment)
            if status is not None:
                return status
        return None


def _filter_statically(state: CycleState, filters: tuple[StaticFilterPlugin, ...]) -> _StaticPass:
    before = dict(state.audit)
    feasible: list[ClusterSnapshot] = []
    rejected: dict[str, Status] = {}
    for cluster in state.snapshot.clusters:
        for plugin in filters:
            status = plugin.filter(state, cluster)
            if status is not None:
                rejected[cluster.name] = status
                break
        else:
            feasible.append(cluster)
    audit = {n: v for n, v in state.audit.items() if before.get(n) is not v}
    # Read-only: the same result is handed to every decision of the class.
    return _StaticPass(FilterResult(tuple(feasible), MappingProxyType(rejected)), audit)


def _typed(plugin: object, interface: type, name: str) -> Any:
    if not isinstance(plugin, interface):
        raise ValueError(f"plugin {name!r} does not implement {interface.__name__}")
    return plugin
