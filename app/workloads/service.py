"""Workloads: validation of what operators submit, decisions stored with their desired placement,
and every change audited, all in the caller's transaction.

A decision that changes desired placements holds the placement lock (see
:mod:`app.placements.repository`) from reading the inventory until the transaction ends, so
concurrent submissions never spend the same capacity twice.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.etag import etag_for, require_match
from app.api.pagination import decode_cursor, encode_cursor
from app.audit.service import AuditTrail
from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.models import Decision as DecisionRecord
from app.db.models import Workload
from app.errors import Conflict, InvalidInput, NotFound
from app.kubetypes import KubeSyntaxError, validate_labels
from app.placements.repository import InventoryRepository
from app.placements.snapshot import Inventory, load_inventory
from app.scheduling.scheduler import Scheduler
from app.scheduling.serialization import workload_from_dict, workload_to_dict
from app.scheduling.types import Resources, WorkloadSpec
from app.security.secretbox import SecretBox
from app.workloads.documents import (
    decision_record,
    restore_redacted_secrets,
    stored_decision_document,
    timestamp,
    workload_document,
)
from app.workloads.events import record_event
from app.workloads.intent import intent_document, placement_spec
from app.workloads.manifests import ManifestError, WorkloadManifests, parse_manifests
from app.workloads.repository import ObjectOwner, WorkloadFilter, WorkloadRepository
from app.workloads.schemas import (
    Disruption,
    PlacementIntent,
    WorkloadCreate,
    WorkloadPatch,
    WorkloadReplace,
    WorkloadStatus,
)
from app.workloads.sealing import seal_secrets, unseal_secrets

RESOURCE = "workload"
RETRYABLE = (WorkloadStatus.UNSCHEDULABLE,)
"""Statuses ``reschedule_unschedulable`` re-decides."""
BATCHABLE = (WorkloadStatus.PENDING, WorkloadStatus.UNSCHEDULABLE)
"""Statuses a batch may place."""
_UNDECIDED = (WorkloadStatus.PENDING, WorkloadStatus.UNSCHEDULABLE)


@dataclass(frozen=True)
class SubmittedWorkload:
    """A workload's fields, checked: its manifests parsed and its scheduler form built."""

    team: str
    labels: dict[str, str]
    manifests: WorkloadManifests
    raw_manifests: list[dict[str, Any]]
    placement: dict[str, Any]
    disruption: dict[str, Any]
    spec: WorkloadSpec

    @property
    def spec_document(self) -> dict[str, Any]:
        return workload_to_dict(self.spec)


def check_workload(
    name: str,
    namespace: str,
    *,
    team: str,
    labels: Mapping[str, str],
    manifests: Sequence[dict[str, Any]],
    placement: PlacementIntent,
    disruption: Disruption,
) -> SubmittedWorkload:
    """Validate a workload as submitted; every error is a 422 naming the field."""
    try:
        validate_labels(labels)
    except KubeSyntaxError as exc:
        raise InvalidInput(exc.message, field=f"labels.{exc.field}".rstrip(".")) from exc
    try:
        parsed = parse_manifests(manifests, namespace)
    except ManifestError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    if disruption.min_available > parsed.replicas:
        raise InvalidInput(
            f"cannot exceed the workload's {parsed.replicas} replica(s)",
            field="disruption.minAvailable",
        )
    spec = WorkloadSpec(
        name=name,
        namespace=namespace,
        team=team,
        replicas=parsed.replicas,
        requests=Resources(parsed.requests_per_replica),
        labels=dict(labels),
        placement=placement_spec(placement),
    )
    return SubmittedWorkload(
        team=team,
        labels=dict(labels),
        manifests=parsed,
        raw_manifests=[dict(m) for m in manifests],
        placement=intent_document(placement),
        disruption=disruption.model_dump(mode="json", by_alias=True),
        spec=spec,
    )


def check_submitted(request: WorkloadCreate) -> SubmittedWorkload:
    """Validate a workload as a create or dry-run request gives it."""
    return check_workload(
        request.name,
        request.namespace,
        team=request.team,
        labels=request.labels,
        manifests=request.manifests,
        placement=request.placement,
        disruption=request.disruption,
    )


def spec_of(workload: Workload, current: Mapping[str, int]) -> WorkloadSpec:
    """The stored workload in the scheduler's form, placed at ``current``."""
    return replace(workload_from_dict(workload.spec), current=current)


def _object_taken(namespace: str, owner: ObjectOwner, index: int) -> Conflict:
    subject = f"{owner.kind} {namespace}/{owner.name}"
    field = f"manifests[{index}].metadata.name"
    if owner.workload_id is None:
        return Conflict(f"{subject} was just released by another workload; try again", field=field)
    detail = f"{subject} belongs to workload {owner.workload_name!r} ({owner.workload_id})"
    if owner.deleting:
        detail += (
            ", which is being deleted: the name is free once its objects are gone from"
            " every cluster"
        )
    return Conflict(
        detail,
        field=field,
        extra={
            "owner": {
                "id": str(owner.workload_id),
                "namespace": namespace,
                "name": owner.workload_name,
                "deleting": owner.deleting,
            }
        },
    )


class WorkloadService:
    """Workload operations inside the caller's transaction, on behalf of ``actor``."""

    def __init__(self, session: AsyncSession, scheduler: Scheduler, actor: Principal) -> None:
        self._session = session
        self._scheduler = scheduler
        self._actor = actor
        self._workloads = WorkloadRepository(session)

    async def create(
        self, request: WorkloadCreate, secret_box: SecretBox, *, defer: bool = False
    ) -> dict[str, Any]:
        """Store a workload, its Secret values sealed with ``secret_box``, and decide its
        placement now (or leave it ``Pending`` for a batch when ``defer``)."""
        checked = check_submitted(request)
        if await self._workloads.name_taken(request.namespace, request.name):
            raise Conflict(
                f"a workload named {request.name!r} exists in namespace {request.namespace!r}",
                field="name",
            )
        now = utcnow()
        workload = Workload(
            id=uuid.uuid4(),
            name=request.name,
            namespace=request.namespace,
            status=str(WorkloadStatus.PENDING),
            status_message="waiting for a decision",
            revision=1,
            version=1,
            desired_generation=1,
            deletion_requested=False,
            created_at=now,
            updated_at=now,
        )
        self._apply(workload, checked, secret_box)
        self._workloads.add(workload)
        try:
            await self._session.flush()
        except IntegrityError as exc:
            raise Conflict(
                f"a workload named {request.name!r} exists in namespace {request.namespace!r}",
                field="name",
            ) from exc
        await self._claim_objects(workload, checked)
        await record_event(
            self._session, workload.id, "submitted", "revision 1 submitted", generation=1
        )
        if not defer:
            await self._decide([workload], now)
        view = await self._view(workload)
        self._audit().record("workload.create", RESOURCE, str(workload.id), before=None, after=view)
        return view

    async def get(self, workload_id: uuid.UUID) -> dict[str, Any]:
        return await self._view(await self._require(workload_id))

    async def list_page(
        self, criteria: WorkloadFilter, *, cursor: str | None, limit: int
    ) -> dict[str, Any]:
        """One page in the JSON form of ``WorkloadPage``, by namespace and name."""
        position = decode_cursor(cursor, "namespace", "name")
        after = (str(position["namespace"]), str(position["name"])) if position else None
        workloads = await self._workloads.list_page(criteria, after=after, limit=limit + 1)
        page = workloads[:limit]
        items = await self._views(page)
        next_cursor = (
            encode_cursor({"namespace": page[-1].namespace, "name": page[-1].name})
            if len(workloads) > limit
            else None
        )
        return {"items": items, "nextCursor": next_cursor}

    async def update(
        self,
        workload_id: uuid.UUID,
        changes: WorkloadReplace | WorkloadPatch,
        if_match: str | None,
        secret_box: SecretBox,
    ) -> dict[str, Any]:
        """Apply a new revision, its Secret values sealed with ``secret_box``; re-decide when
        what the scheduler reads (replicas, requests, labels, team, intent) changed. Nothing
        changes if nothing differs."""
        workload = await self._require(workload_id, for_update=True)
        require_match(if_match, etag_for(workload.id, workload.version))
        if workload.deletion_requested:
            raise Conflict("the workload is being deleted")
        before = await self._view(workload)
        given = changes.model_fields_set
        if isinstance(changes, WorkloadPatch):
            for required in ("team", "labels", "manifests", "placement", "disruption"):
                if required in given and getattr(changes, required) is None:
                    raise InvalidInput("must not be null", field=required)
        stored_placement = PlacementIntent.model_validate(workload.placement)
        stored_disruption = Disruption.model_validate(workload.disruption)
        stored_manifests = unseal_secrets(workload.manifests, secret_box)
        submitted_manifests = stored_manifests
        if changes.manifests is not None:
            try:
                submitted_manifests = restore_redacted_secrets(changes.manifests, stored_manifests)
            except ManifestError as exc:
                raise InvalidInput(exc.message, field=exc.field) from exc
        checked = check_workload(
            workload.name,
            workload.namespace,
            team=changes.team if changes.team is not None else workload.team,
            labels=changes.labels if changes.labels is not None else workload.labels,
            manifests=submitted_manifests,
            placement=changes.placement if changes.placement is not None else stored_placement,
            disruption=(
                changes.disruption if changes.disruption is not None else stored_disruption
            ),
        )
        changed = [
            name
            for name, old, new in (
                ("team", workload.team, checked.team),
                ("labels", workload.labels, checked.labels),
                ("manifests", stored_manifests, checked.raw_manifests),
                ("placement", workload.placement, checked.placement),
                ("disruption", workload.disruption, checked.disruption),
            )
            if old != new
        ]
        if not changed:
            return before
        redecide = checked.spec_document != workload.spec
        if "manifests" in changed:
            workload.desired_generation += 1
            await self._claim_objects(workload, checked)
        self._apply(workload, checked, secret_box)
        workload.revision += 1
        self._touch(workload)
        await self._session.flush()
        await record_event(
            self._session,
            workload.id,
            "updated",
            f"revision {workload.revision}: changed {', '.join(changed)}",
            generation=workload.desired_generation,
        )
        if redecide and workload.status != WorkloadStatus.PENDING:
            await self._decide([workload], utcnow())
        after = await self._view(workload)
        self._audit().record(
            "workload.update", RESOURCE, str(workload.id), before=before, after=after
        )
        return after

    async def delete(self, workload_id: uuid.UUID, if_match: str | None) -> dict[str, Any] | None:
        """Remove the workload: at once when nothing of it can exist in any cluster (the
        reconciler never applied it: no credentials, or not reached yet), else mark it for the
        reconciler, which removes it from every cluster and then deletes it. Returns the
        marked workload, or None when it is gone."""
        workload = await self._require(workload_id, for_update=True)
        require_match(if_match, etag_for(workload.id, workload.version))
        before = await self._view(workload)
        if workload.deletion_requested:
            return before
        if not await self._workloads.may_be_deployed(workload.id):
            await self._workloads.delete(workload)
            self._audit().record(
                "workload.delete", RESOURCE, str(workload.id), before=before, after=None
            )
            return None
        workload.deletion_requested = True
        workload.status = str(WorkloadStatus.DELETING)
        workload.status_message = "removing it from every cluster"
        workload.desired_generation += 1
        self._touch(workload)
        await self._session.flush()
        await record_event(
            self._session,
            workload.id,
            "deleting",
            "deletion requested",
            generation=workload.desired_generation,
        )
        after = await self._view(workload)
        self._audit().record(
            "workload.delete-requested", RESOURCE, str(workload.id), before=before, after=after
        )
        return after

    async def decision(self, workload_id: uuid.UUID) -> dict[str, Any]:
        """The latest decision made for the workload."""
        await self._require(workload_id)
        record = await self._workloads.latest_decision(workload_id)
        if record is None:
            raise NotFound("the workload has not been decided yet (it is Pending)")
        return stored_decision_document(record)

    async def events_page(
        self, workload_id: uuid.UUID, *, cursor: str | None, limit: int
    ) -> dict[str, Any]:
        """One page of the workload's history, oldest first."""
        await self._require(workload_id)
        position = decode_cursor(cursor, "after")
        after = position["after"] if position is not None else None
        if after is not None and not isinstance(after, int):
            raise InvalidInput("the cursor is not one this service issued", field="cursor")
        events = await self._workloads.events_page(workload_id, after_id=after, limit=limit + 1)
        page = events[:limit]
        items = [
            {
                "id": event.id,
                "at": timestamp(event.at),
                "kind": event.kind,
                "cluster": event.cluster,
                "message": event.message,
                "generation": event.generation,
            }
            for event in page
        ]
        next_cursor = encode_cursor({"after": page[-1].id}) if len(events) > limit else None
        return {"items": items, "nextCursor": next_cursor}

    async def reschedule_unschedulable(self, now: datetime) -> int:
        """Re-decide every ``Unschedulable`` workload over the current inventory, oldest
        first, each seeing what the earlier ones took; returns how many are now placed.

        Called by the reconciler after an inventory sync and periodically. A workload still
        unplaceable keeps its status and gets no new decision record (the loop would
        otherwise store one per period); its status message is refreshed.
        """
        await InventoryRepository(self._session).lock_placements()
        ids = await self._workloads.ids_with_status(RETRYABLE)
        if not ids:
            return 0
        workloads = await self._workloads.lock_many(ids)
        return await self._decide(workloads, now, retry=True)

    async def _decide(
        self, workloads: Sequence[Workload], now: datetime, *, retry: bool = False
    ) -> int:
        """Decide ``workloads`` one after another over one inventory; store each decision,
        desired placement, status and event. Returns how many were placed."""
        await InventoryRepository(self._session).lock_placements()
        inventory = await load_inventory(self._session, now)
        snapshot = inventory.snapshot
        placed = 0
        for workload in workloads:
            spec = spec_of(workload, inventory.current_of(workload.id))
            decision = self._scheduler.decide(snapshot, spec, now)
            if retry and not decision.placed:
                workload.status_message = decision.summary
                continue
            await self.store_decision(
                workload,
                decision_record(decision, inventory.snapshot_document),
                inventory,
                decision.assignment,
                method="scheduler",
                now=now,
                retried=retry,
                audit_action="workload.reschedule" if retry else None,
            )
            if decision.placed:
                placed += 1
                snapshot = snapshot.with_placement(spec, decision.assignment)
        return placed

    async def store_decision(
        self,
        workload: Workload,
        document: dict[str, Any],
        inventory: Inventory,
        assignment: Mapping[str, int],
        *,
        method: str,
        now: datetime,
        retried: bool = False,
        audit_action: str | None = None,
    ) -> DecisionRecord:
        """Record a decision (``document`` in the ``decisions.decision`` form) and its
        consequences: desired placement, status and an event.

        An unplaceable decision keeps whatever placement the workload had: an update that
        cannot be placed leaves the previous revision running where it was. ``audit_action``
        records the change in the audit trail (callers that audit the whole workload omit it).
        """
        placed = bool(assignment)
        record = DecisionRecord(
            id=uuid.uuid4(),
            workload_id=workload.id,
            revision=workload.revision,
            created_at=now,
            method=method,
            outcome="placed" if placed else "unschedulable",
            summary=document["summary"],
            decision=document,
            policy_versions=document["policies"]["versions"],
            price_book_versions=dict(inventory.price_book_versions),
        )
        self._workloads.add(record)
        previous_status = workload.status
        if placed:
            current = dict(inventory.current_of(workload.id))
            wanted = {name: count for name, count in assignment.items() if count > 0}
            if wanted != current:
                await self._workloads.replace_placements(
                    workload.id, {inventory.cluster_ids[name]: n for name, n in wanted.items()}
                )
                workload.desired_generation += 1
            if wanted != current or workload.status in _UNDECIDED:
                workload.status = str(WorkloadStatus.PLACED)
            workload.status_message = document["summary"]
            kind = "retried" if retried else "decided"
            message = document["summary"]
        else:
            workload.status = str(WorkloadStatus.UNSCHEDULABLE)
            remedies = document.get("remedies") or []
            workload.status_message = document["summary"]
            kind = "unschedulable"
            message = document["summary"] + (f"; to place it: {remedies[0]}" if remedies else "")
        self._touch(workload)
        await self._session.flush()
        await record_event(
            self._session, workload.id, kind, message, generation=workload.desired_generation
        )
        if audit_action is not None:
            self._audit().record(
                audit_action,
                RESOURCE,
                str(workload.id),
                before={"status": previous_status},
                after={
                    "status": workload.status,
                    "assignment": dict(assignment),
                    "decision": str(record.id),
                },
            )
        return record

    async def _claim_objects(self, workload: Workload, checked: SubmittedWorkload) -> None:
        """Hold the names of the workload's Kubernetes objects (releasing those it no longer
        defines); 409 naming the manifest when another workload holds one."""
        positions = {
            (str(m["kind"]), str(m["metadata"]["name"])): index
            for index, m in enumerate(checked.manifests.objects)
        }
        taken = await self._workloads.claim_objects(workload.id, workload.namespace, positions)
        if taken:
            first = min(taken, key=lambda owner: positions[(owner.kind, owner.name)])
            raise _object_taken(workload.namespace, first, positions[(first.kind, first.name)])

    async def _require(self, workload_id: uuid.UUID, *, for_update: bool = False) -> Workload:
        workload = await self._workloads.by_id(workload_id, for_update=for_update)
        if workload is None:
            raise NotFound(f"no workload with id {workload_id}")
        return workload

    async def _view(self, workload: Workload) -> dict[str, Any]:
        return (await self._views([workload]))[0]

    async def _views(self, workloads: Sequence[Workload]) -> list[dict[str, Any]]:
        placements = await self._workloads.placements_of(w.id for w in workloads)
        return [workload_document(w, placements.get(w.id, [])) for w in workloads]

    @staticmethod
    def _apply(workload: Workload, checked: SubmittedWorkload, secret_box: SecretBox) -> None:
        workload.team = checked.team
        workload.labels = checked.labels
        workload.kind = checked.manifests.kind
        workload.replicas = checked.manifests.replicas
        workload.manifests = seal_secrets(checked.raw_manifests, secret_box)
        workload.placement = checked.placement
        workload.disruption = checked.disruption
        workload.spec = checked.spec_document

    @staticmethod
    def _touch(workload: Workload) -> None:
        workload.version += 1
        workload.updated_at = utcnow()

    def _audit(self) -> AuditTrail:
        return AuditTrail(self._session, self._actor)
