"""Mounts every domain's router."""

from fastapi import FastAPI

from app.api import health
from app.audit import routes as audit_routes
from app.auth import routes as auth_routes
from app.clusters import routes as cluster_routes
from app.pricebooks import routes as price_book_routes


def mount_routers(app: FastAPI) -> None:
    """Include the operational endpoints and every ``/v1`` router."""
    app.include_router(health.router)
    app.include_router(cluster_routes.router)
    app.include_router(price_book_routes.router)
    app.include_router(auth_routes.router)
    app.include_router(audit_routes.router)
