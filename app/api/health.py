"""Liveness, readiness and metrics: public, for orchestrators and scrapers."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.api.dependencies import get_database
from app.errors import ServiceUnavailable, problem_responses

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses=problem_responses(ServiceUnavailable))
async def readyz(request: Request) -> dict[str, str]:
    """The service can serve requests: its database answers."""
    async with get_database(request).engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return {"status": "ready"}


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus metrics: request counts and latencies by route template and status."""
    body = generate_latest(request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
