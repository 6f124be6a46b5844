"""Workload and placement routes check the caller's token once per request.

FastAPI runs a dependency once per request however many times the route names it, so a route
checks the token once exactly when one ``authorize`` dependency appears in its tree; two
(say the service's reader check plus the route's operator check) mean two token checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.api.dependencies import ROLES_ATTRIBUTE
from app.placements.routes import router as placements_router
from app.workloads.routes import router as workloads_router

ROUTES = [
    route
    for router in (workloads_router, placements_router)
    for route in router.routes
    if isinstance(route, APIRoute)
]


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _dependants(child)


def _token_checks(route: APIRoute) -> set[Callable[..., Any]]:
    return {
        dependant.call
        for dependant in _dependants(route.dependant)
        if dependant.call is not None and hasattr(dependant.call, ROLES_ATTRIBUTE)
    }


@pytest.mark.parametrize(
    "route", ROUTES, ids=[f"{sorted(r.methods or ())[0]} {r.path}" for r in ROUTES]
)
def test_each_route_checks_the_token_once(route: APIRoute) -> None:
    assert len(_token_checks(route)) == 1
