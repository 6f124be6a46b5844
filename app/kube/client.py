"""One ``kubernetes.client.ApiClient`` for one member cluster, built from its credentials alone.

The client's own configuration loaders (``kubernetes.config``) are never used: they run
``exec`` plugins, read local files and honour environment proxies. Instead the connection is
set up here, and every choice is fixed rather than inherited from the environment:

* TLS is verified against the cluster's CA only: the system trust store is never loaded, the
  server's name (or IP) must be in its certificate, TLS 1.2 is the minimum.
* Redirects are never followed: a 3xx reaches the caller as :class:`KubeRedirectError`.
* Connect and read timeouts apply to every request, including those made without one.
* No proxy: member clusters are reached directly.
* A client certificate's key never touches a file system: it is handed to OpenSSL through an
  anonymous in-memory file (``memfd``) that is closed as soon as it is loaded; on systems
  without ``memfd`` a 0600 file in a private 0700 directory is used and removed right after
  loading. From then on the key lives only in the ``SSLContext``.
* ``address_guard``, when given, is called with the peer address of every new connection
  before the TLS handshake, so a host name that later resolves somewhere it must not lead
  (a private network, cloud metadata) is refused with :class:`KubeAddressError`.

    >>> api = build_api_client(credentials, address_guard=None)
    >>> try:
    ...     ...  # use it from a worker thread; see KubeDriver
    ... finally:
    ...     api.close()
"""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import urllib3
from kubernetes.client import ApiClient, Configuration
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.util.retry import Retry

from app.kube.errors import KubeAddressError, KubeTLSError

AddressGuard = Callable[[str], None]
"""Called with a peer IP address; raises ``ValueError`` if Placer must not talk to it."""

USER_AGENT = "placer"


class ClusterCredentials(Protocol):
    """What the driver needs to reach a cluster (``app.clusters.credentials`` provides it).

    PEM fields hold PEM text. Exactly one of ``token`` or the client certificate and key is set.
    """

    @property
    def server(self) -> str: ...

    @property
    def ca_data(self) -> str: ...

    @property
    def token(self) -> str | None: ...

    @property
    def client_certificate_data(self) -> str | None: ...

    @property
    def client_key_data(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for a connection, and for each read of a response."""

    connect: float = 5.0
    read: float = 30.0


DEFAULT_TIMEOUTS = Timeouts()


def build_api_client(
    credentials: ClusterCredentials,
    *,
    address_guard: AddressGuard | None,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
) -> ApiClient:
    """Return an ``ApiClient`` for the cluster; the caller closes it.

    Raises :class:`KubeTLSError` when the server URL is not ``https`` or the CA, certificate or
    key cannot be loaded.
    """
    server = credentials.server.rstrip("/")
    if urlsplit(server).scheme != "https":
        raise KubeTLSError("the server URL must be https://")
    configuration = Configuration(host=server)
    if credentials.token is not None:
        configuration.api_key = {"BearerToken": credentials.token}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
    api = ApiClient(configuration)
    api.user_agent = USER_AGENT
    api.rest_client.pool_manager = _ClusterPoolManager(
        ssl_context=_ssl_context(credentials),
        address_guard=address_guard,
        timeout=urllib3.Timeout(connect=timeouts.connect, read=timeouts.read),
        maxsize=configuration.connection_pool_maxsize,
    )
    return api


def close_api_client(api_client: ApiClient) -> None:
    """Close the client's connections; requests still running finish on their own."""
    api_client.close()  # type: ignore[no-untyped-call]  # the generated client is untyped


def _ssl_context(credentials: ClusterCredentials) -> ssl.SSLContext:
    # Giving cadata keeps create_default_context from loading the system trust store.
    try:
        context = ssl.create_default_context(cadata=credentials.ca_data)
    except (ssl.SSLError, ValueError) as error:
        raise KubeTLSError(f"the cluster's CA certificate cannot be loaded: {error}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    certificate, key = credentials.client_certificate_data, credentials.client_key_data
    if certificate is not None and key is not None:
        try:
            _load_client_certificate(context, certificate, key)
        except (ssl.SSLError, OSError) as error:
            raise KubeTLSError(
                f"the client certificate or key cannot be loaded: {error.strerror or error}"
            ) from None
    return context


def _load_client_certificate(context: ssl.SSLContext, certificate: str, key: str) -> None:
    """Load a PEM certificate and key, which OpenSSL accepts only by path, without a disk file."""
    if hasattr(os, "memfd_create"):
        certificate_fd = _memory_file("placer-client-cert", certificate)
        try:
            key_fd = _memory_file("placer-client-key", key)
            try:
                context.load_cert_chain(
                    f"/proc/self/fd/{certificate_fd}", f"/proc/self/fd/{key_fd}"
                )
            finally:
                os.close(key_fd)
        finally:
            os.close(certificate_fd)
        return
    with tempfile.TemporaryDirectory(prefix="placer-tls-") as directory:
        certificate_path = Path(directory, "client.crt")
        key_path = Path(directory, "client.key")
        for path, content in ((certificate_path, certificate), (key_path, key)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(content)
        context.load_cert_chain(certificate_path, key_path)


def _memory_file(name: str, content: str) -> int:
    descriptor = os.memfd_create(name, os.MFD_CLOEXEC)
    try:
        os.write(descriptor, content.encode())
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


class _GuardedHTTPSConnection(HTTPSConnection):
    """Checks the peer address of each new connection before any TLS or HTTP byte is sent."""

    address_guard: AddressGuard | None = None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        if self.address_guard is not None:
            address = str(sock.getpeername()[0])
            try:
                self.address_guard(address)
            except ValueError as error:
                sock.close()
                raise KubeAddressError(f"connecting to {address} is not allowed: {error}") from None
        return sock


class _ClusterPoolManager(urllib3.PoolManager):
    """HTTPS only, peer addresses checked, no redirects, no request without a timeout."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        address_guard: AddressGuard | None,
        timeout: urllib3.Timeout,
        maxsize: int,
    ) -> None:
        # One retry of a failed connect; reads are not retried (a PATCH may have been applied)
        # and redirects are handed back to the caller instead of followed.
        retries = Retry(total=1, connect=1, read=0, status=0, other=0, redirect=False)
        super().__init__(ssl_context=ssl_context, timeout=timeout, retries=retries, maxsize=maxsize)
        self._default_timeout = timeout
        connection_class = type(
            "_ClusterHTTPSConnection",
            (_GuardedHTTPSConnection,),
            {"address_guard": staticmethod(address_guard) if address_guard else None},
        )
        pool_class = type(
            "_ClusterHTTPSConnectionPool",
            (HTTPSConnectionPool,),
            {"ConnectionCls": connection_class},
        )
        self.pool_classes_by_scheme = {"https": pool_class}

    def urlopen(  # type: ignore[override]  # PoolManager.urlopen's own signature
        self, method: str, url: str, redirect: bool = True, **kw: Any
    ) -> urllib3.BaseHTTPResponse:
        # The kubernetes client passes timeout=None when a call sets none, which would mean
        # "wait forever" to urllib3.
        if kw.get("timeout") is None:
            kw["timeout"] = self._default_timeout
        return super().urlopen(method, url, redirect=False, **kw)
