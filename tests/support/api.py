"""Pytest fixtures for driving the API in-process against the test's own database.

``app`` is the FastAPI application on ``db_url``; ``app_client`` an ``httpx.AsyncClient``
talking to it through ASGI (no socket); ``token_factory(role)`` issues a real token;
``admin_token`` and ``auth(token)`` are shortcuts. Loopback (127.0.0.0/8) is an allowed
cluster network, so test clusters on 127.0.0.1 are accepted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr

from app.auth.principal import Principal
from app.auth.roles import Role
from app.auth.service import TokenService
from app.config import Settings
from app.db.session import Database
from app.main import create_app

TokenFactory = Callable[[Role], Awaitable[str]]
TEST_ALLOWED_NETWORKS = "127.0.0.0/8"


def auth(token: str) -> dict[str, str]:
    """The header that authenticates a request with ``token``."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings of the app under test: its own database, data dir and secret key."""
    return Settings(
        database_url=SecretStr(db_url),
        data_dir=tmp_path / "data",
        secret_key=SecretStr(Fernet.generate_key().decode()),
        allowed_cluster_networks=TEST_ALLOWED_NETWORKS,
        access_log=False,
        db_pool_size=4,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application, its connections closed after the test."""
    application = create_app(settings)
    yield application
    database: Database = application.state.database
    await database.dispose()


@pytest.fixture
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client bound to the application in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://placer.test") as client:
        yield client


@pytest.fixture
def token_factory(app: FastAPI) -> TokenFactory:
    """Issue a real token with the given role, as the command line does."""

    async def issue(role: Role) -> str:
        database: Database = app.state.database
        async with database.transaction() as session:
            return await TokenService(session).issue(
                name=f"test-{role}", role=role, actor=Principal.system("tests")
            )

    return issue


@pytest.fixture
async def admin_token(token_factory: TokenFactory) -> str:
    """A token with the ``admin`` role."""
    return await token_factory(Role.ADMIN)
