"""``/v1/placements``: placement questions (dry-run) and joint placement of pending workloads."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from app.api.dependencies import Session, authorize
from app.auth.principal import Principal
from app.errors import Conflict, InvalidInput, NotFound, problem_responses
from app.placements.scheduler import current_scheduler
from app.placements.schemas import BatchReport, BatchRequest
from app.placements.service import PlacementService
from app.scheduling.scheduler import Scheduler
from app.workloads.routes import OPERATORS
from app.workloads.schemas import DecisionRead, WorkloadCreate

router = APIRouter(prefix="/v1/placements", tags=["placements"])
Operator = Annotated[Principal, Depends(authorize(*OPERATORS))]
SchedulerDep = Annotated[Scheduler, Depends(current_scheduler)]


def _service(session: Session, scheduler: SchedulerDep, principal: Operator) -> PlacementService:
    return PlacementService(session, scheduler, principal)


Service = Annotated[PlacementService, Depends(_service)]


@router.post(
    ":dry-run",
    response_model=DecisionRead,
    responses=problem_responses(InvalidInput),
)
async def dry_run(body: WorkloadCreate, service: Service) -> JSONResponse:
    """The decision this workload would get if submitted now, explained as a stored one is;
    nothing is stored or deployed."""
    return JSONResponse(await service.dry_run(body))


@router.post(
    ":batch",
    response_model=BatchReport,
    responses=problem_responses(NotFound, Conflict, InvalidInput),
)
async def place_batch(body: BatchRequest, service: Service) -> JSONResponse:
    """Place `Pending` and `Unschedulable` workloads jointly with the optimizer, minimizing
    total cost under capacity, policy, budget and spread constraints; each answer is stored
    as the workload's decision. The report says how far the answer is from the proven lower
    bound."""
    return JSONResponse(await service.batch(body))
