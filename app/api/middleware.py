"""Pure ASGI middleware: request ids, access log, metrics and the request body size limit.

Written against raw ASGI rather than ``BaseHTTPMiddleware`` because it runs on every request
and must not buffer bodies or add a task per call.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_JSON, PayloadTooLarge
from app.observability.logging import request_id_var
from app.observability.metrics import HttpMetrics

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")
_access_logger = logging.getLogger("placer.access")


class RequestContextMiddleware:
    """Tag each request with an id, cap its body, then log and measure what was answered."""

    def __init__(
        self, app: ASGIApp, *, metrics: HttpMetrics, max_body_bytes: int, access_log: bool
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        status = 500
        body_too_large = False

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if body_too_large:
                return
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        def over_limit() -> None:
            nonlocal body_too_large
            body_too_large = True

        try:
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                status = await self._reject_too_large(send, request_id)
            else:
                try:
                    await self.app(scope, self._limited(receive, over_limit), send_with_id)
                except Exception:
                    if not body_too_large:
                        raise
                if body_too_large:
                    status = await self._reject_too_large(send, request_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            if self.access_log:
                _access_logger.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)

    def _limited(self, receive: Receive, over_limit: Callable[[], None]) -> Receive:
        """Stop reading past the limit; the app's answer is then replaced by a 413."""
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    over_limit()
                    return {"type": "http.disconnect"}
            return message

        return limited_receive

    async def _reject_too_large(self, send: Send, request_id: str) -> int:
        error = PayloadTooLarge(f"the request body exceeds {self.max_body_bytes} bytes")
        body = json.dumps(error.problem()).encode()
        await send(
            {
                "type": "http.response.start",
                "status": error.status,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return error.status


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER.encode():
            candidate: str = value.decode("latin-1")
            if _VALID_REQUEST_ID.fullmatch(candidate):
                return candidate
    return uuid.uuid4().hex


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
