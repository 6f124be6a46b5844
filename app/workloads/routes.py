"""``/v1/workloads``: operators submit, change and delete workloads; every role reads them."""

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from app.api.dependencies import Session, authorize
from app.api.etag import IfMatch
from app.api.pagination import DEFAULT_PAGE_SIZE, Cursor, PageSize
from app.api.selectors import LabelSelectorQuery, parse_selector_query
from app.auth.principal import Principal
from app.auth.roles import EVERY_ROLE, Role
from app.errors import Conflict, InvalidInput, NotFound, PreconditionFailed, problem_responses
from app.idempotency.service import Created, IdempotencyKey, run_idempotently
from app.placements.scheduler import current_scheduler
from app.scheduling.scheduler import Scheduler
from app.security.secretbox import SecretBox
from app.workloads.repository import WorkloadFilter
from app.workloads.schemas import (
    DecisionRead,
    WorkloadCreate,
    WorkloadEventPage,
    WorkloadPage,
    WorkloadPatch,
    WorkloadRead,
    WorkloadReplace,
    WorkloadStatus,
)
from app.workloads.service import WorkloadService

OPERATORS: tuple[Role, ...] = (Role.ADMIN, Role.OPERATOR)
"""Who may submit, change and delete workloads and ask placement questions."""

router = APIRouter(prefix="/v1/workloads", tags=["workloads"])
Operator = Annotated[Principal, Depends(authorize(*OPERATORS))]
Reader = Annotated[Principal, Depends(authorize(*EVERY_ROLE))]
SchedulerDep = Annotated[Scheduler, Depends(current_scheduler)]


def _secret_box(request: Request) -> SecretBox:
    """The key box the application loaded at start: it seals Secret values before storage."""
    box: SecretBox = request.app.state.cluster_policy.secret_box
    return box


SecretBoxDep = Annotated[SecretBox, Depends(_secret_box)]
WorkloadId = Annotated[uuid.UUID, Path(description="The workload's id.")]


# Each route authorizes once: the service is built for the route's own principal, and FastAPI
# calls a dependency once per request however often it is named, so a write route naming both
# ``Operator`` and ``OperatorService`` still checks the token one time.
def _reader_service(
    session: Session, scheduler: SchedulerDep, principal: Reader
) -> WorkloadService:
    return WorkloadService(session, scheduler, principal)


def _operator_service(
    session: Session, scheduler: SchedulerDep, principal: Operator
) -> WorkloadService:
    return WorkloadService(session, scheduler, principal)


ReaderService = Annotated[WorkloadService, Depends(_reader_service)]
OperatorService = Annotated[WorkloadService, Depends(_operator_service)]


def _json(document: dict[str, object], status_code: int = 200) -> JSONResponse:
    headers = {"ETag": str(document["etag"])} if "etag" in document else {}
    return JSONResponse(document, status_code=status_code, headers=headers)


@router.post(
    "",
    status_code=201,
    response_model=WorkloadRead,
    responses=problem_responses(Conflict, InvalidInput),
)
async def create_workload(
    body: WorkloadCreate,
    *,
    session: Session,
    service: OperatorService,
    principal: Operator,
    secret_box: SecretBoxDep,
    idempotency_key: IdempotencyKey = None,
    defer: Annotated[
        bool,
        Query(description="Store it `Pending`, undecided, for `POST /v1/placements:batch`."),
    ] = False,
) -> JSONResponse:
    """Submit a workload: its manifests are validated, its placement decided and stored with
    the explanation (`GET /v1/workloads/{id}/decision`). An unplaceable workload is stored as
    `Unschedulable` with its reasons, and retried when the inventory changes. A Kubernetes
    object (kind and name in the namespace) belongs to one workload: defining one that another
    workload holds, even one being deleted, is a 409 naming the manifest and the owner."""

    async def create() -> Created:
        workload = await service.create(body, secret_box, defer=defer)
        headers = {"ETag": workload["etag"], "Location": f"/v1/workloads/{workload['id']}"}
        return Created(201, workload, headers)

    return await run_idempotently(
        session,
        principal,
        route="POST /v1/workloads",
        key=idempotency_key,
        body=body,
        create=create,
    )


@router.get("", response_model=WorkloadPage, responses=problem_responses(InvalidInput))
async def list_workloads(
    service: ReaderService,
    *,
    namespace: Annotated[str | None, Query(max_length=63)] = None,
    team: Annotated[str | None, Query(max_length=63)] = None,
    status: WorkloadStatus | None = None,
    label_selector: LabelSelectorQuery = None,
    cursor: Cursor = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    """List workloads by namespace and name, filtered."""
    criteria = WorkloadFilter(
        namespace=namespace,
        team=team,
        status=str(status) if status is not None else None,
        selector=parse_selector_query(label_selector),
    )
    page = await service.list_page(criteria, cursor=cursor, limit=limit)
    return Response(json.dumps(page, separators=(",", ":")), media_type="application/json")


@router.get("/{workload_id}", response_model=WorkloadRead, responses=problem_responses(NotFound))
async def get_workload(workload_id: WorkloadId, service: ReaderService) -> JSONResponse:
    """Read a workload: status, desired placement per cluster and ready replicas. Its `ETag`
    header is what `If-Match` expects."""
    return _json(await service.get(workload_id))


_UPDATE_RESPONSES = problem_responses(NotFound, Conflict, PreconditionFailed, InvalidInput)


@router.put("/{workload_id}", response_model=WorkloadRead, responses=_UPDATE_RESPONSES)
async def replace_workload(
    workload_id: WorkloadId,
    body: WorkloadReplace,
    service: OperatorService,
    secret_box: SecretBoxDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Replace the workload's team, labels, manifests, placement intent and disruption: a new
    revision, re-decided when what placement depends on changed."""
    return _json(await service.update(workload_id, body, if_match, secret_box))


@router.patch("/{workload_id}", response_model=WorkloadRead, responses=_UPDATE_RESPONSES)
async def update_workload(
    workload_id: WorkloadId,
    body: WorkloadPatch,
    service: OperatorService,
    secret_box: SecretBoxDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Change some fields of the workload: a new revision, re-decided when what placement
    depends on changed."""
    return _json(await service.update(workload_id, body, if_match, secret_box))


@router.delete(
    "/{workload_id}",
    status_code=204,
    responses={
        202: {"description": "Removal from the clusters is under way", "model": WorkloadRead},
        **problem_responses(NotFound, PreconditionFailed),
    },
)
async def delete_workload(
    workload_id: WorkloadId, service: OperatorService, if_match: IfMatch = None
) -> Response:
    """Delete the workload. 204 when it was never deployed (no placement on a cluster with
    credentials); otherwise 202: it shows `Deleting` until the reconciler has removed it from
    every cluster, then disappears."""
    marked = await service.delete(workload_id, if_match)
    if marked is None:
        return Response(status_code=204)
    return _json(marked, status_code=202)


@router.get(
    "/{workload_id}/decision", response_model=DecisionRead, responses=problem_responses(NotFound)
)
async def get_decision(workload_id: WorkloadId, service: ReaderService) -> JSONResponse:
    """The latest placement decision: chosen clusters and replicas, every other cluster's
    rejection in words, scores, cost and the next best alternative, the policy and price-book
    versions and the inventory snapshot it used."""
    return JSONResponse(await service.decision(workload_id))


@router.get(
    "/{workload_id}/events",
    response_model=WorkloadEventPage,
    responses=problem_responses(NotFound, InvalidInput),
)
async def list_workload_events(
    workload_id: WorkloadId, service: ReaderService, cursor: Cursor = None, limit: PageSize = 100
) -> JSONResponse:
    """The workload's history, oldest first: submitted, decided, updated, applied, ready,
    failed, retried..."""
    return JSONResponse(await service.events_page(workload_id, cursor=cursor, limit=limit))
