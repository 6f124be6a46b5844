"""Dry-runs (a decision for an unsaved workload, nothing stored) and joint batch placement."""

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.models import Workload
from app.errors import Conflict, NotFound
from app.placements.repository import InventoryRepository
from app.placements.schemas import BatchRequest
from app.placements.snapshot import Inventory, load_inventory
from app.scheduling.cost import placement_cost
from app.scheduling.scheduler import Scheduler
from app.scheduling.serialization import workload_to_dict
from app.scheduling.types import WorkloadSpec
from app.workloads.documents import decision_document, decision_record
from app.workloads.repository import WorkloadRepository
from app.workloads.schemas import WorkloadCreate
from app.workloads.service import BATCHABLE, WorkloadService, check_submitted, spec_of

if TYPE_CHECKING:
    from app.scheduling.optimizer.from_snapshot import SnapshotAnswer


class PlacementService:
    """Placement questions answered over the current inventory, on behalf of ``actor``."""

    def __init__(self, session: AsyncSession, scheduler: Scheduler, actor: Principal) -> None:
        self._session = session
        self._scheduler = scheduler
        self._actor = actor

    async def dry_run(self, request: WorkloadCreate) -> dict[str, Any]:
        """The decision ``request`` would get if submitted now; nothing is stored."""
        checked = check_submitted(request)
        now = utcnow()
        inventory = await load_inventory(self._session, now)
        decision = self._scheduler.decide(inventory.snapshot, checked.spec, now)
        return decision_document(
            decision_record(decision, inventory.snapshot_document),
            method="scheduler",
            decided_at=now,
            price_book_versions=inventory.price_book_versions,
        )

    async def batch(self, request: BatchRequest) -> dict[str, Any]:
        """Place the requested workloads jointly with the optimizer, store one decision each,
        and report the answer with its distance from the proven lower bound."""
        repository = WorkloadRepository(self._session)
        await InventoryRepository(self._session).lock_placements()
        ids = request.workload_ids
        if ids is None:
            ids = await repository.ids_with_status(BATCHABLE)
        workloads = await repository.lock_many(ids)
        found = {w.id: w for w in workloads}
        for index, workload_id in enumerate(ids):
            workload = found.get(workload_id)
            field = f"workloadIds[{index}]"
            if workload is None:
                raise NotFound(f"no workload with id {workload_id}", field=field)
            if workload.status not in BATCHABLE or workload.deletion_requested:
                raise Conflict(
                    f"workload {workload.namespace}/{workload.name} is {workload.status}; "
                    "a batch places Pending or Unschedulable workloads",
                    field=field,
                )
        if not workloads:
            return _EMPTY_REPORT
        # OR-Tools loads on the first batch rather than at start: importing it takes seconds,
        # and a worker process must answer uvicorn's health check within five.
        from app.scheduling.optimizer.from_snapshot import place_batch  # noqa: PLC0415
        from app.scheduling.optimizer.solve import SolverConfig  # noqa: PLC0415

        now = utcnow()
        inventory = await load_inventory(self._session, now)
        specs = [spec_of(w, inventory.current_of(w.id)) for w in workloads]
        config = SolverConfig(time_limit=request.time_limit_seconds)
        answer = await asyncio.to_thread(
            place_batch, self._scheduler, inventory.snapshot, specs, now, config
        )
        return await self._store(workloads, specs, inventory, answer, now)

    async def _store(
        self,
        workloads: Sequence[Workload],
        specs: Sequence[WorkloadSpec],
        inventory: Inventory,
        answer: "SnapshotAnswer",
        now: datetime,
    ) -> dict[str, Any]:
        result = answer.result
        batch = {
            "status": str(result.status),
            "cost": result.cost,
            "lowerBound": result.lower_bound,
            "gap": result.gap,
            "workloads": len(workloads),
        }
        snapshot = inventory.snapshot_document
        policies = {
            "sources": self._scheduler.policies.sources(),
            "versions": self._scheduler.policies.versions(),
        }
        service = WorkloadService(self._session, self._scheduler, self._actor)
        placed: list[dict[str, Any]] = []
        unplaced: list[dict[str, Any]] = []
        total = 0
        for workload, spec, answered in zip(workloads, specs, answer.placements, strict=True):
            assignment = dict(answered.assignment)
            cost = placement_cost(inventory.snapshot, spec.requests, assignment)
            summary = answered.summary or _placed_summary(assignment)
            document = {
                "workload": workload_to_dict(spec),
                "snapshot": snapshot,
                "policies": policies,
                "now": now.isoformat(),
                "placed": bool(assignment),
                "assignment": assignment,
                "summary": summary,
                "verdicts": [
                    {
                        "cluster": cluster.name,
                        "replicas": assignment.get(cluster.name, 0),
                        "reason": answered.reasons.get(cluster.name),
                    }
                    for cluster in inventory.snapshot.clusters
                ],
                "cost": cost.to_dict() if assignment else None,
                "alternative": None,
                "remedies": [],
                "notes": [],
                "batch": batch,
            }
            record = await service.store_decision(
                workload,
                document,
                inventory,
                assignment,
                method="optimizer",
                now=now,
                audit_action="workload.batch-place",
            )
            entry: dict[str, Any] = {
                "workloadId": str(workload.id),
                "workload": spec.key,
                "decisionId": str(record.id),
            }
            if assignment:
                total += answered.marginal_hourly_cost
                placed.append(
                    entry
                    | {
                        "assignment": assignment,
                        "marginalHourlyCost": answered.marginal_hourly_cost,
                    }
                )
            else:
                unplaced.append(entry | {"summary": summary, "reasons": dict(answered.reasons)})
        return {
            **{key: batch[key] for key in ("status", "cost", "lowerBound", "gap")},
            "marginalHourlyCost": total,
            "solveSeconds": result.solve_time,
            "greedy": {"cost": result.greedy_cost, "unplaced": result.greedy_unplaced},
            "placed": placed,
            "unplaced": unplaced,
        }


_EMPTY_REPORT: dict[str, Any] = {
    "status": "optimal",
    "cost": 0,
    "lowerBound": 0.0,
    "gap": 0.0,
    "marginalHourlyCost": 0,
    "solveSeconds": 0.0,
    "greedy": {"cost": 0, "unplaced": 0},
    "placed": [],
    "unplaced": [],
}
"""The report for a batch with nothing to place."""


def _placed_summary(assignment: dict[str, int]) -> str:
    where = ", ".join(f"{name} ({count})" for name, count in sorted(assignment.items()))
    return f"placed jointly by the optimizer on {where}"
