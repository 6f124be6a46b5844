"""Entity tags for optimistic concurrency: ``ETag`` on reads, ``If-Match`` on writes."""

import hashlib
import uuid
from typing import Annotated

from fastapi import Header

from app.errors import PreconditionFailed

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag last read; the change is refused with 412 if it is stale.",
    ),
]


def etag_for(resource_id: uuid.UUID, version: int) -> str:
    """A strong ETag derived from the resource's identity and version counter."""
    digest = hashlib.sha256(f"{resource_id}:{version}".encode()).hexdigest()[:20]
    return f'"{digest}"'


def require_match(if_match: str | None, current: str) -> None:
    """Raise 412 unless ``If-Match`` is absent, ``*``, or lists the current ETag."""
    if if_match is None:
        return
    candidates = {candidate.strip() for candidate in if_match.split(",")}
    if "*" in candidates or current in candidates:
        return
    raise PreconditionFailed(
        "the resource changed since it was read; fetch it again and retry", field="If-Match"
    )
