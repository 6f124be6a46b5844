"""A tiny HTTPS server on 127.0.0.1 that gives one fixed answer and records what it receives.

It stands in for a misbehaving or unreachable endpoint (a redirect, a wrong certificate, a
server that never answers), which a real API server cannot be made to be.
"""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.unit.kube.pki import Issued


@dataclass(frozen=True)
class Answer:
    """What the server answers to every request, after waiting ``delay`` seconds."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    """One request as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names in lower case."""
    client_subject: str | None


class HttpsServer:
    """Serves ``answer`` over TLS with ``identity``; with ``client_ca`` it demands a client cert."""

    def __init__(
        self, directory: Path, identity: Issued, answer: Answer, client_ca: str | None = None
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        certificate, key = directory / "server.crt", directory / "server.key"
        certificate.write_text(identity.certificate)
        key.write_text(identity.key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        if client_ca is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cadata=client_ca)
        self.received: list[Received] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.answer = answer
        self._server.received = self.received
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HttpsServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    answer: Answer
    received: list[Received]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Failed handshakes and dropped connections are what some tests provoke."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _respond(self) -> None:
        subject = None
        if isinstance(self.connection, ssl.SSLSocket):
            der = self.connection.getpeercert(binary_form=True)
            if der is not None:
                names = x509.load_der_x509_certificate(der).subject
                subject = str(names.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
        self.server.received.append(
            Received(
                self.command,
                self.path,
                {name.lower(): value for name, value in self.headers.items()},
                subject,
            )
        )
        answer = self.server.answer
        time.sleep(answer.delay)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_PATCH = do_POST = do_DELETE = _respond  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean."""
