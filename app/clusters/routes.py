"""``/v1/clusters``: the inventory, readable by every role, changed by admins."""

from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from app.api.dependencies import ReadSession, Session, authorize, get_read_session
from app.api.etag import IfMatch
from app.api.pagination import DEFAULT_PAGE_SIZE, Cursor, PageSize
from app.api.selectors import LabelSelectorQuery, parse_selector_query
from app.auth.principal import Principal
from app.auth.roles import ADMIN_ONLY, EVERY_ROLE
from app.clusters.cache import ClusterPageCache
from app.clusters.repository import ClusterFilter
from app.clusters.schemas import (
    ClusterCreate,
    ClusterKind,
    ClusterPage,
    ClusterRead,
    ClusterState,
    ClusterUpdate,
)
from app.clusters.service import ClusterPolicy, ClusterService, SchedulingAction
from app.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    problem_responses,
)
from app.idempotency.service import Created, IdempotencyKey, run_idempotently

router = APIRouter(prefix="/v1/clusters", tags=["clusters"])
Admin = Annotated[Principal, Depends(authorize(*ADMIN_ONLY))]
Reader = Annotated[Principal, Depends(authorize(*EVERY_ROLE))]
ClusterName = Annotated[str, Path(max_length=63, description="The cluster's name.")]


# Dependencies are coroutines: FastAPI runs plain functions in a thread pool, a thread hop per
# request for no benefit.
async def get_cluster_policy(request: Request) -> ClusterPolicy:
    policy: ClusterPolicy = request.app.state.cluster_policy
    return policy


Clusters = Annotated[ClusterPolicy, Depends(get_cluster_policy)]


async def _service(session: Session, policy: Clusters) -> ClusterService:
    return ClusterService(session, policy)


Service = Annotated[ClusterService, Depends(_service)]


async def _reading_service(session: ReadSession, policy: Clusters) -> ClusterService:
    return ClusterService(session, policy)


ReadingService = Annotated[ClusterService, Depends(_reading_service)]


def _with_etag(cluster: ClusterRead) -> JSONResponse:
    return JSONResponse(cluster.model_dump(mode="json"), headers={"ETag": cluster.etag})


@router.post(
    "",
    status_code=201,
    response_model=ClusterRead,
    responses=problem_responses(Conflict, InvalidInput),
)
async def create_cluster(
    body: ClusterCreate,
    session: Session,
    service: Service,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Add a cluster. Credentials are checked, encrypted and never returned."""

    async def create() -> Created:
        cluster = await service.create(body, principal)
        headers = {"ETag": cluster.etag, "Location": f"/v1/clusters/{cluster.name}"}
        return Created(201, cluster.model_dump(mode="json"), headers)

    return await run_idempotently(
        session, principal, route="POST /v1/clusters", key=idempotency_key, body=body, create=create
    )


_read_session = asynccontextmanager(get_read_session)


@router.get("", response_model=ClusterPage, responses=problem_responses(InvalidInput))
async def list_clusters(
    request: Request,
    _: Reader,
    policy: Clusters,
    *,
    kind: ClusterKind | None = None,
    provider: Annotated[str | None, Query(max_length=63)] = None,
    region: Annotated[str | None, Query(max_length=63)] = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    state: ClusterState | None = None,
    label_selector: LabelSelectorQuery = None,
    cursor: Cursor = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
) -> Response:
    """List clusters by name, filtered.

    Each server process serves pages from memory. A change made through the same process is in
    the next list; lists may lag a change made through another server process by a few
    milliseconds (at most 1 s). Read a single cluster for its current state and `ETag`.
    """
    pages: ClusterPageCache = request.app.state.cluster_pages
    country = country.upper() if country else None

    async def read() -> bytes:
        criteria = ClusterFilter(
            kind=kind,
            provider=provider,
            region=region,
            country=country,
            state=state,
            selector=parse_selector_query(label_selector),
        )
        async with _read_session(request) as session:
            # Postgres renders the page from stored, validated rows; validating it again on the
            # way out would only cost time on the busiest endpoint.
            return await ClusterService(session, policy).list_page(
                criteria, cursor=cursor, limit=limit
            )

    query = (kind, provider, region, country, state, label_selector, cursor, limit)
    page = await pages.page(query, read)
    return Response(page, media_type="application/json")


@router.get("/{name}", response_model=ClusterRead, responses=problem_responses(NotFound))
async def get_cluster(name: ClusterName, service: ReadingService, _: Reader) -> JSONResponse:
    """Read a cluster; its `ETag` header is what `If-Match` expects."""
    return _with_etag(await service.get(name))


@router.patch(
    "/{name}",
    response_model=ClusterRead,
    responses=problem_responses(NotFound, PreconditionFailed, InvalidInput),
)
async def update_cluster(
    name: ClusterName,
    body: ClusterUpdate,
    service: Service,
    principal: Admin,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Change some fields of a cluster; `If-Match` guards against lost updates."""
    return _with_etag(await service.update(name, body, if_match, principal))


@router.delete(
    "/{name}",
    status_code=204,
    responses=problem_responses(Conflict, NotFound, PreconditionFailed),
)
async def delete_cluster(
    name: ClusterName, service: Service, principal: Admin, if_match: IfMatch = None
) -> Response:
    """Remove a cluster from the inventory; refused (409) while workloads are placed on it."""
    await service.delete(name, if_match, principal)
    return Response(status_code=204)


async def _schedule(
    name: str,
    action: SchedulingAction,
    service: ClusterService,
    principal: Principal,
    if_match: str | None,
) -> JSONResponse:
    return _with_etag(await service.set_scheduling(name, action, if_match, principal))


_SCHEDULING_RESPONSES = problem_responses(NotFound, PreconditionFailed)


@router.post("/{name}/cordon", response_model=ClusterRead, responses=_SCHEDULING_RESPONSES)
async def cordon_cluster(
    name: ClusterName, service: Service, principal: Admin, if_match: IfMatch = None
) -> JSONResponse:
    """Stop new placements on the cluster; what runs there stays."""
    return await _schedule(name, SchedulingAction.CORDON, service, principal, if_match)


@router.post("/{name}/uncordon", response_model=ClusterRead, responses=_SCHEDULING_RESPONSES)
async def uncordon_cluster(
    name: ClusterName, service: Service, principal: Admin, if_match: IfMatch = None
) -> JSONResponse:
    """Accept placements again (ends a cordon or a drain)."""
    return await _schedule(name, SchedulingAction.UNCORDON, service, principal, if_match)


@router.post("/{name}/drain", response_model=ClusterRead, responses=_SCHEDULING_RESPONSES)
async def drain_cluster(
    name: ClusterName, service: Service, principal: Admin, if_match: IfMatch = None
) -> JSONResponse:
    """Mark the cluster to be emptied: no new placements, and its workloads are to move away."""
    return await _schedule(name, SchedulingAction.DRAIN, service, principal, if_match)
