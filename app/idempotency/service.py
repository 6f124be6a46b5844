"""Replaying the first response to a create made again with the same ``Idempotency-Key``.

The first request takes a transaction-scoped advisory lock on (token, route, key) and stores
its response in the same transaction as the resource it creates, so either both exist or
neither does. A second request with the key:

* while the first still runs, cannot take the lock → 409;
* afterwards, finds the stored response → the same status and body again if its body is the
  same, 422 if it differs.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.models import IdempotencyRecord
from app.errors import IdempotencyKeyReused, InvalidInput, RequestInFlight
from app.idempotency.repository import IdempotencyRepository

RETENTION = timedelta(hours=24)
REPLAY_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique string (a UUID is best); a retry with the same key and body "
        "gets the first answer. Kept for 24 hours.",
    ),
]


@dataclass(frozen=True)
class Created:
    """What a create handler produced: the status, the JSON body and extra headers."""

    status_code: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def response(self, *, replayed: bool = False) -> JSONResponse:
        headers = dict(self.headers)
        if replayed:
            headers[REPLAY_HEADER] = "true"
        return JSONResponse(self.body, status_code=self.status_code, headers=headers)


def request_fingerprint(body: BaseModel) -> str:
    """A digest of the request's meaning: field order and whitespace do not change it."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def lock_id_for(token: str, route: str, key: str) -> int:
    """The advisory lock a request with this token, route and key holds while it runs."""
    digest = hashlib.sha256("\x00".join((token, route, key)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def run_idempotently(
    session: AsyncSession,
    principal: Principal,
    *,
    route: str,
    key: str | None,
    body: BaseModel,
    create: Callable[[], Awaitable[Created]],
) -> JSONResponse:
    """Run ``create`` once per (token, route, key); without a key, simply run it."""
    if key is None:
        return (await create()).response()
    if principal.token_id is None:
        raise InvalidInput(
            "Idempotency-Key needs a token-authenticated request", field="Idempotency-Key"
        )
    repository = IdempotencyRepository(session)
    token = str(principal.token_id)
    if not await repository.lock(lock_id_for(token, route, key)):
        raise RequestInFlight("retry when the first request has finished", field="Idempotency-Key")
    fingerprint = request_fingerprint(body)
    record = await repository.find(principal.token_id, route, key)
    if record is not None and record.created_at < utcnow() - RETENTION:
        await repository.remove(record)
        record = None
    if record is not None:
        if record.request_hash != fingerprint:
            raise IdempotencyKeyReused(
                "this key was used for a request with another body", field="Idempotency-Key"
            )
        return Created(record.status_code, record.response_body, record.response_headers).response(
            replayed=True
        )
    created = await create()
    repository.add(
        IdempotencyRecord(
            token_id=principal.token_id,
            route=route,
            key=key,
            request_hash=fingerprint,
            status_code=created.status_code,
            response_body=created.body,
            response_headers=created.headers,
            created_at=utcnow(),
        )
    )
    return created.response()
