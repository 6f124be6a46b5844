"""Every route and every role: who is admitted, who gets 401 and who gets 403."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api.openapi import ROLES_EXTENSION
from app.auth.roles import Role
from tests.support.api import TokenFactory, auth
from tests.support.factories import cluster_payload, iaas_price_book
from tests.support.workload_factories import workload_payload

EVERYONE = frozenset(Role)
ADMIN = frozenset({Role.ADMIN})
AUDITORS = frozenset({Role.ADMIN, Role.COMPLIANCE})
OPERATORS = frozenset({Role.ADMIN, Role.OPERATOR})
OPERATORS = frozenset({Role.ADMIN, Role.OPERATOR})
UNKNOWN_WORKLOAD = "/v1/workloads/00000000-0000-0000-0000-000000000000"
UNKNOWN_TOKEN_ID = "00000000-0000-0000-0000-000000000000"
WORKLOAD = f"/v1/workloads/{UNKNOWN_TOKEN_ID}"
WORKLOAD_REPLACE = {"team": "t", "manifests": workload_payload()["manifests"]}
NEW_VERSION = {
    "effectiveFrom": "2999-01-01T00:00:00Z",
    "rates": {"cpuPerVcpuHour": "1", "memoryPerGibHour": "1"},
}

# (method, route template, concrete path, JSON body, roles admitted; None = public)
ROUTES: list[tuple[str, str, str, Any, frozenset[Role] | None]] = [
    ("GET", "/healthz", "/healthz", None, None),
    ("GET", "/readyz", "/readyz", None, None),
    ("GET", "/metrics", "/metrics", None, None),
    ("GET", "/v1/clusters", "/v1/clusters", None, EVERYONE),
    ("POST", "/v1/clusters", "/v1/clusters", cluster_payload("new-cluster"), ADMIN),
    ("GET", "/v1/clusters/{name}", "/v1/clusters/seeded", None, EVERYONE),
    ("PATCH", "/v1/clusters/{name}", "/v1/clusters/seeded", {"region": "r2"}, ADMIN),
    ("DELETE", "/v1/clusters/{name}", "/v1/clusters/absent", None, ADMIN),
    ("POST", "/v1/clusters/{name}/cordon", "/v1/clusters/seeded/cordon", None, ADMIN),
    ("POST", "/v1/clusters/{name}/uncordon", "/v1/clusters/seeded/uncordon", None, ADMIN),
    ("POST", "/v1/clusters/{name}/drain", "/v1/clusters/seeded/drain", None, ADMIN),
    ("GET", "/v1/price-books", "/v1/price-books", None, EVERYONE),
    ("POST", "/v1/price-books", "/v1/price-books", iaas_price_book("new-book"), ADMIN),
    ("GET", "/v1/price-books/{name}", "/v1/price-books/seeded", None, EVERYONE),
    ("DELETE", "/v1/price-books/{name}", "/v1/price-books/absent", None, ADMIN),
    (
        "POST",
        "/v1/price-books/{name}/versions",
        "/v1/price-books/seeded/versions",
        NEW_VERSION,
        ADMIN,
    ),
    ("GET", "/v1/tokens", "/v1/tokens", None, ADMIN),
    ("POST", "/v1/tokens", "/v1/tokens", {"name": "ci", "role": "viewer"}, ADMIN),
    ("GET", "/v1/tokens/{token_id}", f"/v1/tokens/{UNKNOWN_TOKEN_ID}", None, ADMIN),
    ("DELETE", "/v1/tokens/{token_id}", f"/v1/tokens/{UNKNOWN_TOKEN_ID}", None, ADMIN),
    ("GET", "/v1/audit-events", "/v1/audit-events", None, AUDITORS),
    ("GET", "/v1/workloads", "/v1/workloads", None, EVERYONE),
    ("POST", "/v1/workloads", "/v1/workloads", {}, OPERATORS),
    ("GET", "/v1/workloads/{workload_id}", UNKNOWN_WORKLOAD, None, EVERYONE),
    ("PUT", "/v1/workloads/{workload_id}", UNKNOWN_WORKLOAD, {}, OPERATORS),
    ("PATCH", "/v1/workloads/{workload_id}", UNKNOWN_WORKLOAD, {}, OPERATORS),
    ("DELETE", "/v1/workloads/{workload_id}", UNKNOWN_WORKLOAD, None, OPERATORS),
    (
        "GET",
        "/v1/workloads/{workload_id}/decision",
        f"{UNKNOWN_WORKLOAD}/decision",
        None,
        EVERYONE,
    ),
    ("GET", "/v1/workloads/{workload_id}/events", f"{UNKNOWN_WORKLOAD}/events", None, EVERYONE),
    ("POST", "/v1/placements:dry-run", "/v1/placements:dry-run", {}, OPERATORS),
    ("POST", "/v1/placements:batch", "/v1/placements:batch", {}, OPERATORS),
]


def test_the_matrix_covers_every_route_and_matches_the_openapi_roles(app: FastAPI) -> None:
    operations = app.openapi()["paths"]
    served = {
        (method.upper(), template)
        for template, operations_by_method in operations.items()
        for method in operations_by_method
    }
    listed = {(method, template) for method, template, *_ in ROUTES}
    assert served - listed == set(), "add these routes to ROUTES, with the roles they admit"
    assert listed - served == set(), "these routes are no longer served"
    for method, template, _, _, roles in ROUTES:
        declared = operations[template][method.lower()].get(ROLES_EXTENSION)
        assert (set(declared) if declared is not None else None) == roles, (method, template)


def test_every_v1_operation_declares_its_roles(app: FastAPI) -> None:
    for template, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if template.startswith("/v1/"):
                assert operation.get(ROLES_EXTENSION), (method, template)


@pytest.mark.parametrize(
    ("method", "path", "body", "admitted"),
    [pytest.param(m, p, b, r, id=f"{m} {t}") for m, t, p, b, r in ROUTES],
)
async def test_route_admits_exactly_its_roles(
    app_client: httpx.AsyncClient,
    *,
    token_factory: TokenFactory,
    method: str,
    path: str,
    body: Any,
    admitted: frozenset[Role] | None,
) -> None:
    admin = await token_factory(Role.ADMIN)
    await app_client.post("/v1/price-books", json=iaas_price_book("seeded"), headers=auth(admin))
    await app_client.post("/v1/clusters", json=cluster_payload("seeded"), headers=auth(admin))
    tokens = {role: await token_factory(role) for role in Role}

    async def call(headers: dict[str, str]) -> httpx.Response:
        return await app_client.request(method, path, json=body, headers=headers)

    if admitted is None:
        assert (await call({})).status_code == 200
        return
    for headers in ({}, auth("placer_not-a-real-token"), {"Authorization": "Basic YTpi"}):
        anonymous = await call(headers)
        assert anonymous.status_code == 401, (headers, anonymous.text)
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
    for role, token in tokens.items():
        response = await call(auth(token))
        if role in admitted:
            assert response.status_code not in (401, 403), (role, response.text)
            assert response.status_code < 500, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["status"] == 403
