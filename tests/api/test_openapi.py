"""The committed OpenAPI document is the one the application serves."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI

from app.cli import render_openapi

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_committed_openapi_matches_the_application(app: FastAPI) -> None:
    committed = json.loads(COMMITTED.read_text())

    assert committed == app.openapi(), "run `placer openapi` and commit openapi/openapi.json"
    assert COMMITTED.read_text() == render_openapi()


def test_every_error_response_is_a_problem_document(app: FastAPI) -> None:
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    content = response["content"]
                    assert list(content) == ["application/problem+json"], (method, path, status)
