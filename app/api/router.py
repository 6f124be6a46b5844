"""Mounts every domain's router."""

from fastapi import FastAPI

from app.api import health
from app.api.openapi import document_routes
from app.audit import routes as audit_routes
from app.auth import routes as auth_routes
from app.clusters import routes as cluster_routes
from app.placements import routes as placement_routes
from app.pricebooks import routes as price_book_routes
from app.workloads import routes as workload_routes


def mount_routers(app: FastAPI) -> None:
    """Include the operational endpoints and every ``/v1`` router."""
    for router in (
        health.router,
        cluster_routes.router,
        price_book_routes.router,
        auth_routes.router,
        audit_routes.router,
        workload_routes.router,
        placement_routes.router,
    ):
        document_routes(router)
        app.include_router(router)
