"""Health, readiness, metrics, request ids, and what clients see when the database is down."""

from __future__ import annotations

from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from app.config import Settings
from app.main import create_app
from tests.support.api import auth

PROBLEM = "application/problem+json"


async def test_health_and_readiness(app_client: httpx.AsyncClient) -> None:
    assert (await app_client.get("/healthz")).json() == {"status": "ok"}
    assert (await app_client.get("/readyz")).json() == {"status": "ready"}


async def test_metrics_count_requests_by_route_template_and_status(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    for name in ("one", "two", "three"):
        await app_client.get(f"/v1/clusters/{name}", headers=auth(admin_token))

    metrics = (await app_client.get("/metrics")).text

    assert (
        'placer_http_requests_total{method="GET",route="/v1/clusters/{name}",status="404"} 3.0'
        in metrics
    )
    assert "placer_http_request_duration_seconds_bucket" in metrics
    assert "/v1/clusters/one" not in metrics


async def test_request_id_is_echoed_or_generated(app_client: httpx.AsyncClient) -> None:
    echoed = await app_client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    generated = await app_client.get("/healthz", headers={"X-Request-ID": "bad id\n"})

    assert echoed.headers["x-request-id"] == "trace-42"
    assert len(generated.headers["x-request-id"]) == 32


async def test_unknown_path_and_wrong_method_are_problem_documents(
    app_client: httpx.AsyncClient, admin_token: str
) -> None:
    missing = await app_client.get("/v1/nothing-here", headers=auth(admin_token))
    wrong_method = await app_client.put("/v1/clusters", headers=auth(admin_token))

    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == PROBLEM


async def test_database_outage_is_503_problem_not_a_stack_trace(tmp_path: Path) -> None:
    unreachable = f"postgresql://postgres@/placer?host={tmp_path}/no-server-here"
    settings = Settings(
        database_url=SecretStr(unreachable),
        data_dir=tmp_path,
        secret_key=SecretStr(Fernet.generate_key().decode()),
        access_log=False,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://placer.test") as client:
        listing = await client.get("/v1/clusters", headers=auth("placer_whatever-token-value"))
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    await app.state.database.dispose()

    for response in (listing, ready):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["retry-after"] == "5"
        assert "Traceback" not in response.text
    assert alive.status_code == 200
