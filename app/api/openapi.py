"""The OpenAPI document: roles per operation, and problem documents for every error."""

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.api.dependencies import ROLES_ATTRIBUTE
from app.auth.roles import Role
from app.errors import (
    BadRequest,
    Forbidden,
    InvalidInput,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    Unauthenticated,
    problem_responses,
)

ROLES_EXTENSION = "x-placer-roles"
# Ids of routes already documented; the routes are module-level and live as long as this set.
_documented: set[int] = set()


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _dependants(child)


def route_roles(route: APIRoute) -> tuple[Role, ...] | None:
    """The roles a route admits, or None for a public route.

    A route may depend on several ``authorize`` dependencies (its own and its service's);
    a request must pass all of them, so the route admits their intersection.
    """
    admitted: set[Role] | None = None
    for dependant in _dependants(route.dependant):
        roles = getattr(dependant.call, ROLES_ATTRIBUTE, None)
        if roles is not None:
            admitted = set(roles) if admitted is None else admitted & set(roles)
    if admitted is None:
        return None
    return tuple(role for role in Role if role in admitted)


def document_routes(router: APIRouter) -> None:
    """Declare on each operation the roles it admits and the problems it may answer with.

    Applied to a router before it is included, while its routes are still plain ``APIRoute``s;
    routers are module-level objects, so a second application must not document them twice.
    """
    for route in router.routes:
        if not isinstance(route, APIRoute) or id(route) in _documented:
            continue
        _documented.add(id(route))
        roles = route_roles(route)
        declared: dict[int | str, dict[str, Any]] = problem_responses(ServiceUnavailable)
        if roles is not None:
            declared |= problem_responses(Unauthenticated, Forbidden)
            route.openapi_extra = {**(route.openapi_extra or {}), ROLES_EXTENSION: list(roles)}
            names = ", ".join(f"`{role}`" for role in roles)
            route.description = f"{route.description}\n\nRoles: {names}.".strip()
        if route.body_field is not None:
            declared |= problem_responses(BadRequest, PayloadTooLarge)
        if route.dependant.query_params or route.dependant.path_params or route.body_field:
            declared |= problem_responses(InvalidInput)
        route.responses = {**declared, **route.responses}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The schema FastAPI derives, plus the shared ``Problem`` component."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        app.openapi_schema = schema
    return app.openapi_schema
