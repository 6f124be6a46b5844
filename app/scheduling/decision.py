"""A placement decision with its explanation (§6), and its JSON form.

A :class:`Decision` holds its inputs (workload, snapshot, profile, policy sources, time) and
its outcome: the assignment, a verdict per cluster (the plugin and message that rejected it,
or its score per plugin), a summary sentence, the cost of the placement and of the next best
alternative, and, when nothing could be placed, what would make the workload placeable.
"""

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from app.scheduling.cost import CostEstimate
from app.scheduling.framework import Profile, ScoreTable
from app.scheduling.serialization import (
    snapshot_from_dict,
    snapshot_to_dict,
    workload_from_dict,
    workload_to_dict,
)
from app.scheduling.status import Status
from app.scheduling.types import InventorySnapshot, WorkloadSpec


@dataclass(frozen=True)
class ClusterVerdict:
    """What the decision made of one cluster.

    Rejected clusters carry ``rejection``; feasible ones carry ``scores`` (plugin → 0-100)
    and ``total`` (weighted); chosen ones also ``replicas`` > 0. ``audit`` lists non-blocking
    rule findings for the cluster (audit mode, waived by an exception).
    """

    cluster: str
    replicas: int = 0
    rejection: Status | None = None
    scores: Mapping[str, int] | None = None
    total: int | None = None
    audit: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "cluster": self.cluster,
            "replicas": self.replicas,
            "rejection": None if self.rejection is None else self.rejection.to_dict(),
            "scores": None if self.scores is None else dict(self.scores),
            "total": self.total,
            "audit": list(self.audit),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ClusterVerdict":
        """Inverse of :meth:`to_dict`."""
        rejection = data["rejection"]
        return cls(
            cluster=data["cluster"],
            replicas=data["replicas"],
            rejection=None if rejection is None else Status.from_dict(rejection),
            scores=data["scores"],
            total=data["total"],
            audit=tuple(data["audit"]),
        )


class Verdicts(Sequence[ClusterVerdict]):
    """Every cluster's verdict, in snapshot order, built from the decision's compact tables
    when first read.

    A decision over thousands of clusters is mostly summarized or stored; building one
    :class:`ClusterVerdict` per cluster while deciding would cost more than the decision.
    """

    def __init__(
        self,
        snapshot: InventorySnapshot,
        assignment: Mapping[str, int],
        rejected: Mapping[str, Status],
        scores: ScoreTable,
        audit: Mapping[str, tuple[str, ...]],
    ) -> None:
        self._snapshot = snapshot
        self._assignment = assignment
        self._rejected = rejected
        self._scores = scores
        self._audit = audit
        self._built: tuple[ClusterVerdict, ...] | None = None

    def _all(self) -> tuple[ClusterVerdict, ...]:
        if self._built is None:
            self._built = tuple(
                ClusterVerdict(
                    cluster=c.name,
                    replicas=self._assignment.get(c.name, 0),
                    rejection=self._rejected.get(c.name),
                    scores=self._scores.row(c.name),
                    total=self._scores.totals.get(c.name),
                    audit=self._audit.get(c.name, ()),
                )
                for c in self._snapshot.clusters
            )
        return self._built

    @overload
    def __getitem__(self, index: int) -> ClusterVerdict: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[ClusterVerdict]: ...

    def __getitem__(self, index: int | slice) -> ClusterVerdict | Sequence[ClusterVerdict]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._snapshot.clusters)

    def __iter__(self) -> Iterator[ClusterVerdict]:
        return iter(self._all())


@dataclass(frozen=True)
class Alternative:
    """Another compliant placement and its cost, described in words."""

    description: str
    assignment: Mapping[str, int]
    cost: CostEstimate

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "description": self.description,
            "assignment": dict(self.assignment),
            "cost": self.cost.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Alternative":
        """Inverse of :meth:`to_dict`."""
        return cls(data["description"], data["assignment"], _cost_from_dict(data["cost"]))


def _cost_from_dict(data: Mapping[str, Any]) -> CostEstimate:
    return CostEstimate(
        data["hourly"], data["marginalHourly"], data["currency"], tuple(data["priceBooks"])
    )


@dataclass(frozen=True, eq=False)
class Decision:
    """An explained decision; ``to_json``/``from_json`` round-trip it, ``replay`` re-runs it.

    ``placed`` is false when the workload cannot be placed; then ``assignment`` is empty,
    ``summary`` says why and ``remedies`` say what would make it placeable.
    """

    workload: WorkloadSpec
    snapshot: InventorySnapshot
    profile: Profile
    policy_sources: tuple[str, ...]
    policy_versions: Mapping[str, str]
    now: datetime
    placed: bool
    assignment: Mapping[str, int]
    summary: str
    verdicts: Sequence[ClusterVerdict]
    cost: CostEstimate | None
    alternative: Alternative | None
    remedies: tuple[str, ...]
    notes: tuple[str, ...]

    def outcome(self) -> dict[str, Any]:
        """The decided part only (no inputs): what a replay must reproduce."""
        return {
            "placed": self.placed,
            "assignment": dict(sorted(self.assignment.items())),
            "summary": self.summary,
            "verdicts": [v.to_dict() for v in self.verdicts],
            "cost": None if self.cost is None else self.cost.to_dict(),
            "alternative": None if self.alternative is None else self.alternative.to_dict(),
            "remedies": list(self.remedies),
            "notes": list(self.notes),
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the full JSON form: inputs and outcome."""
        return {
            "workload": workload_to_dict(self.workload),
            "snapshot": snapshot_to_dict(self.snapshot),
            "profile": self.profile.to_dict(),
            "policies": {"sources": list(self.policy_sources), "versions": self.policy_versions},
            "now": self.now.isoformat(),
            **self.outcome(),
        }

    def to_json(self) -> str:
        """Serialize to a JSON string (keys sorted, so equal decisions give equal text)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Decision":
        """Inverse of :meth:`to_dict`."""
        cost = data["cost"]
        alternative = data["alternative"]
        return cls(
            workload=workload_from_dict(data["workload"]),
            snapshot=snapshot_from_dict(data["snapshot"]),
            profile=Profile.from_dict(data["profile"]),
            policy_sources=tuple(data["policies"]["sources"]),
            policy_versions=data["policies"]["versions"],
            now=datetime.fromisoformat(data["now"]),
            placed=data["placed"],
            assignment=data["assignment"],
            summary=data["summary"],
            verdicts=tuple(ClusterVerdict.from_dict(v) for v in data["verdicts"]),
            cost=None if cost is None else _cost_from_dict(cost),
            alternative=None if alternative is None else Alternative.from_dict(alternative),
            remedies=tuple(data["remedies"]),
            notes=tuple(data["notes"]),
        )

    @classmethod
    def from_json(cls, text: str) -> "Decision":
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))
