"""Opaque keyset cursors: the client hands back what it was given, never an offset."""

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import Query

from app.errors import InvalidInput

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page (1 to 500).")]
Cursor = Annotated[
    str | None,
    Query(max_length=1000, description="The `nextCursor` of the previous page."),
]


def encode_cursor(position: dict[str, Any]) -> str:
    """The position after the last item of a page, as an opaque URL-safe string."""
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *keys: str) -> dict[str, Any] | None:
    """The position a cursor encodes, checked to hold ``keys``; a forged cursor is a 422."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("the cursor is not one this service issued", field="cursor") from exc
    if not isinstance(position, dict) or any(key not in position for key in keys):
        raise InvalidInput("the cursor is not one this service issued", field="cursor")
    return position
