"""Cluster credentials, treated as untrusted input.

The ``kubernetes`` client's own kubeconfig loader runs ``exec`` and ``auth-provider`` commands
and reads local files a kubeconfig names, so a kubeconfig sent to Placer never reaches it.
Placer parses the document itself and keeps only what :class:`ClusterCredentials` holds: the
server URL, inline CA certificates, and either an inline bearer token or an inline client
certificate and key. Everything else that changes how a connection is made is refused with a
:class:`CredentialError` naming the field; fields that only describe (``extensions``,
``namespace``, ``preferences``, ``disable-compression``) are accepted and dropped.

Decisions:

* Every cluster, user and context entry of a kubeconfig is checked for refused fields, not
  only the selected ones: Placer's choice of entry and another tool's can never disagree about
  a document that was accepted, and an exported ``~/.kube/config`` full of other clusters'
  secrets is turned back rather than silently trimmed. Only the selected entries are checked
  for values (URL, certificates, token) and only their server name is resolved.
* Unknown fields are refused as well, so a kubeconfig feature added later is refused until it
  is reviewed here.
* ``tls-server-name`` is refused: Placer has nowhere to keep it, and dropping it would turn
  into a certificate error at the first connection instead of a clear one now.
* Impersonation (``as``, ``as-groups``, ...) and basic auth (``username``/``password``) are
  refused: Placer would otherwise act with a different identity than the one the admin meant.
* YAML anchors, aliases, merge keys and duplicate keys are refused: kubeconfigs do not use
  them, aliases make "billion laughs" documents, and duplicate keys let two parsers read two
  different documents.
* A server named by a host name is resolved when the credentials are checked, and every
  address it resolves to must be allowed; a name that does not resolve is refused. The
  Kubernetes driver re-checks the address it actually connects to with
  :func:`check_connect_address`, because DNS can answer differently later.
* ``localhost`` and ``*.localhost`` are loopback by definition (RFC 6761) and are checked as
  127.0.0.1 and ::1 without asking a resolver.
* A numeric IPv4 host must be written as a dotted quad: forms such as ``2130706433`` or
  ``0x7f.1``, which some resolvers accept, are refused even when the address is public.

Stored form: :meth:`ClusterCredentials.to_json` gives the bytes to encrypt with
:class:`app.security.secretbox.SecretBox`; the plaintext is never stored or logged.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import socket
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any, Literal, NamedTuple

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

KUBECONFIG_FIELD = "credentials.kubeconfig"
SERVER_FIELD = "credentials.server"

MAX_KUBECONFIG_CHARS = 256 * 1024
MAX_YAML_DEPTH = 32
MAX_TOKEN_CHARS = 16 * 1024
MAX_PEM_CHARS = 64 * 1024
MAX_URL_CHARS = 2048

_STORAGE_VERSION = 1


class CredentialError(ValueError):
    """Credentials a client sent are refused; ``field`` is the path of the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, repr=False)
class ClusterCredentials:
    """What Placer keeps to reach one cluster's API server.

    Exactly one way to authenticate is set: ``token``, or ``client_certificate_data`` with
    ``client_key_data``. PEM fields hold PEM text, not base64 of it.
    """

    server: str
    ca_data: str
    token: str | None = None
    client_certificate_data: str | None = None
    client_key_data: str | None = None

    def __post_init__(self) -> None:
        has_certificate = self.client_certificate_data is not None
        if has_certificate != (self.client_key_data is not None):
            raise ValueError("a client certificate and its key come together")
        if (self.token is not None) == has_certificate:
            raise ValueError("exactly one of a token or a client certificate is required")

    @property
    def auth_kind(self) -> Literal["token", "client-certificate"]:
        """How Placer authenticates to the cluster; safe to show, unlike the secret itself."""
        return "token" if self.token is not None else "client-certificate"

    def __repr__(self) -> str:
        return (
            f"ClusterCredentials(server={self.server!r}, auth={self.auth_kind}, <secrets hidden>)"
        )

    def to_json(self) -> bytes:
        """The plaintext to encrypt for storage."""
        document = {
            "version": _STORAGE_VERSION,
            "server": self.server,
            "ca_data": self.ca_data,
            "token": self.token,
            "client_certificate_data": self.client_certificate_data,
            "client_key_data": self.client_key_data,
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ClusterCredentials:
        """Read back what :meth:`to_json` wrote; a plain ``ValueError`` means corrupt storage."""
        document = json.loads(data)
        expected = {
            "version",
            "server",
            "ca_data",
            "token",
            "client_certificate_data",
            "client_key_data",
        }
        if not isinstance(document, dict) or set(document) != expected:
            raise ValueError("stored cluster credentials have an unexpected shape")
        if document["version"] != _STORAGE_VERSION:
            raise ValueError(f"stored cluster credentials have version {document['version']!r}")
        if not isinstance(document["server"], str) or not isinstance(document["ca_data"], str):
            raise ValueError("stored cluster credentials lack a server or CA")
        optional = ("token", "client_certificate_data", "client_key_data")
        if any(not isinstance(document[key], str | None) for key in optional):
            raise ValueError("stored cluster credentials have a secret that is not text")
        return cls(
            server=document["server"],
            ca_data=document["ca_data"],
            token=document["token"],
            client_certificate_data=document["client_certificate_data"],
            client_key_data=document["client_key_data"],
        )


# --- Server addresses --------------------------------------------------------------------

# Ranges an API server may not live in unless an admin allows them. The names end up in error
# messages. IPv4-mapped IPv6 addresses are checked as the IPv4 address they stand for.
_FORBIDDEN_RANGES: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(cidr), name)
    for cidr, name in (
        ("0.0.0.0/8", "'this network' (reaches the local host)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata services live here)"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("100.64.0.0/10", "shared carrier-grade NAT"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("198.18.0.0/15", "benchmarking"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/8", "reserved (IPv4-compatible and other legacy forms)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("fc00::/7", "unique-local (private)"),
        ("ff00::/8", "multicast"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/23", "IETF protocol assignments (Teredo and others)"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("2002::/16", "6to4 (embeds an IPv4 address)"),
    )
)
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")

_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")
_NETLOC = re.compile(
    r"(?:\[(?P<ipv6>[0-9a-fA-F:.]+)\]|(?P<host>[A-Za-z0-9.-]+))(?::(?P<port>[0-9]{1,5}))?"
)
_LOOPBACK_NAME_ADDRESSES = (IPv4Address("127.0.0.1"), IPv6Address("::1"))


def parse_allowed_networks(text: str) -> tuple[IPNetwork, ...]:
    """Parse the admin's comma-separated CIDR list (``PLACER_ALLOWED_CLUSTER_NETWORKS``).

    A bare address means just that address; a network with host bits set is refused, since it
    is most likely a typo.
    """
    if not text.strip():
        return ()
    networks: list[IPNetwork] = []
    for position, raw in enumerate(text.split(","), start=1):
        entry = raw.strip()
        if not entry:
            raise ValueError(f"allowed cluster networks: entry {position} is empty")
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
        except ValueError as error:
            raise ValueError(
                f"allowed cluster networks: entry {position} {entry!r} is not a network: {error}"
            ) from None
    return tuple(networks)


def check_connect_address(
    address: str | IPAddress, allowed_networks: Iterable[IPNetwork], *, field: str = SERVER_FIELD
) -> None:
    """Refuse an address Placer must not connect to unless an admin allowed its network.

    The Kubernetes driver calls this with the peer address of every new connection, so a name
    that resolved to a public address at registration cannot later lead to a private one.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in allowed_networks):
        return
    category = _forbidden_category(ip)
    if category is not None:
        raise CredentialError(
            field,
            f"address {ip} is {category}; an admin can allow its network "
            "with PLACER_ALLOWED_CLUSTER_NETWORKS",
        )


def _forbidden_category(ip: IPAddress) -> str | None:
    # The NAT64 prefix lies inside the reserved ::/8, yet reaches the IPv4 address it embeds.
    if isinstance(ip, IPv6Address) and ip in _NAT64_WELL_KNOWN:
        embedded = IPv4Address(int(ip) & 0xFFFFFFFF)
        inner = _forbidden_category(embedded)
        return None if inner is None else f"NAT64 for {embedded}, which is {inner}"
    for network, name in _FORBIDDEN_RANGES:
        if ip.version == network.version and ip in network:
            return name
    if not ip.is_global:
        return "not a publicly routable address"
    return None


def validate_server_url(url: str, allowed_networks: Iterable[IPNetwork]) -> None:
    """Check an API server URL: ``https``, a host and nothing that could redirect the request.

    Literal addresses and every address a host name resolves to must lie outside the forbidden
    ranges (loopback, link-local, private, ...) unless inside ``allowed_networks``. Resolving a
    name uses the system resolver and may block for its timeout.
    """
    allowed = tuple(allowed_networks)
    host, port = _split_server_url(url)
    for ip in _addresses_of(host, port):
        check_connect_address(ip, allowed)


def _split_server_url(url: str) -> tuple[str, int]:
    if not url:
        raise CredentialError(SERVER_FIELD, "is empty")
    if len(url) > MAX_URL_CHARS:
        raise CredentialError(SERVER_FIELD, f"is longer than {MAX_URL_CHARS} characters")
    if any(not 0x20 < ord(char) < 0x7F for char in url):
        raise CredentialError(
            SERVER_FIELD, "may hold only printable ASCII without spaces (write names in punycode)"
        )
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() != "https":
        raise CredentialError(SERVER_FIELD, "must be an https:// URL")
    for char, what in (("?", "a query"), ("#", "a fragment"), ("\\", "a backslash")):
        if char in rest:
            raise CredentialError(SERVER_FIELD, f"must not contain {what}")
    netloc = rest.split("/", 1)[0]
    if "@" in netloc:
        raise CredentialError(SERVER_FIELD, "must not contain a user name or password")
    match = _NETLOC.fullmatch(netloc)
    if match is None:
        raise CredentialError(SERVER_FIELD, f"host {netloc!r} is not a host name or IP address")
    port = int(match["port"]) if match["port"] is not None else 443
    if not 0 < port < 65536:
        raise CredentialError(SERVER_FIELD, f"port {port} is out of range")
    if match["ipv6"] is not None:
        try:
            IPv6Address(match["ipv6"])
        except ValueError:
            raise CredentialError(
                SERVER_FIELD, f"[{match['ipv6']}] is not an IPv6 address"
            ) from None
        return match["ipv6"], port
    return match["host"].lower(), port


def _addresses_of(host: str, port: int) -> tuple[IPAddress, ...]:
    if ":" in host:
        return (IPv6Address(host),)
    name = host.removesuffix(".")
    labels = name.split(".")
    if not name or any(_HOST_LABEL.fullmatch(label) is None for label in labels):
        raise CredentialError(SERVER_FIELD, f"host {host!r} is not a valid host name")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        return (_numeric_ipv4(name),)
    if len(name) > 253:
        raise CredentialError(SERVER_FIELD, "host name is longer than 253 characters")
    if name == "localhost" or name.endswith(".localhost"):
        return _LOOPBACK_NAME_ADDRESSES
    return _resolve(name, port)


def _numeric_ipv4(name: str) -> IPv4Address:
    """Read a host the way ``inet_aton`` and URL parsers do once it ends in a number."""
    parts = name.split(".")
    if len(parts) > 4:
        raise CredentialError(SERVER_FIELD, f"host {name!r} is not a valid IPv4 address")
    values: list[int] = []
    for part in parts:
        if _NUMERIC_LABEL.fullmatch(part) is None:
            raise CredentialError(SERVER_FIELD, f"host {name!r} is not a valid IPv4 address")
        if part.startswith("0x"):
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not set(part) <= set("01234567"):
                raise CredentialError(SERVER_FIELD, f"host {name!r} is not a valid IPv4 address")
            values.append(int(part, 8))
        else:
            values.append(int(part, 10))
    last_limit = 256 ** (5 - len(parts))
    if any(v > 255 for v in values[:-1]) or values[-1] >= last_limit:
        raise CredentialError(SERVER_FIELD, f"host {name!r} is not a valid IPv4 address")
    number = values[-1]
    for index, value in enumerate(values[:-1]):
        number += value << (8 * (3 - index))
    ip = IPv4Address(number)
    if str(ip) != name:
        raise CredentialError(
            SERVER_FIELD,
            f"host {name!r} is an unusual spelling of the IPv4 address {ip}; "
            f"write it as {ip}" + _category_note(ip),
        )
    return ip


def _category_note(ip: IPv4Address) -> str:
    category = _forbidden_category(ip)
    return "" if category is None else f" (which is {category})"


def _resolve(name: str, port: int) -> tuple[IPAddress, ...]:
    try:
        results = socket.getaddrinfo(name, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise CredentialError(
            SERVER_FIELD,
            f"host {name!r} does not resolve from the Placer server; Placer checks every "
            "address a name resolves to, so it must resolve now",
        ) from None
    addresses = {
        ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        for family, _, _, _, sockaddr in results
        if family in (socket.AF_INET, socket.AF_INET6)
    }
    if not addresses:
        raise CredentialError(SERVER_FIELD, f"host {name!r} resolves to no IP address")
    return tuple(sorted(addresses, key=lambda ip: (ip.version, int(ip))))


# --- Individual values -------------------------------------------------------------------

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_TOKEN = re.compile(r"[\x21-\x7e]+")


def _pem_text(value: object, field: str, *, base64_encoded: bool) -> str:
    """PEM text of a field that holds PEM or, in a kubeconfig, base64 of PEM."""
    if not isinstance(value, str):
        raise CredentialError(field, "must be a string")
    text = value.strip()
    if base64_encoded or not text.startswith("-----BEGIN"):
        try:
            decoded = base64.b64decode("".join(text.split()), validate=True)
            text = decoded.decode("ascii").strip()
        except (binascii.Error, ValueError):
            expected = "base64 of PEM text" if base64_encoded else "PEM text or base64 of it"
            raise CredentialError(field, f"is not {expected}") from None
    if len(text) > MAX_PEM_CHARS:
        raise CredentialError(field, f"is longer than {MAX_PEM_CHARS} characters")
    if not text.startswith("-----BEGIN"):
        raise CredentialError(field, "does not hold PEM text")
    return text


def _certificates(value: object, field: str, *, base64_encoded: bool) -> list[x509.Certificate]:
    text = _pem_text(value, field, base64_encoded=base64_encoded)
    kinds = set(_PEM_BLOCK.findall(text))
    if kinds != {"CERTIFICATE"}:
        other = ", ".join(sorted(kinds - {"CERTIFICATE"})) or "no certificate"
        raise CredentialError(field, f"must hold only certificates, found {other}")
    try:
        return x509.load_pem_x509_certificates(text.encode("ascii"))
    except ValueError:
        raise CredentialError(field, "holds a certificate that cannot be parsed") from None


def _pem_of(certificates: list[x509.Certificate]) -> str:
    return "".join(
        cert.public_bytes(serialization.Encoding.PEM).decode("ascii") for cert in certificates
    )


def _private_key(value: object, field: str, *, base64_encoded: bool) -> PrivateKeyTypes:
    text = _pem_text(value, field, base64_encoded=base64_encoded)
    # OpenSSL writes an "EC PARAMETERS" block before an EC key; it carries nothing secret.
    kinds = [kind for kind in _PEM_BLOCK.findall(text) if kind != "EC PARAMETERS"]
    if len(kinds) != 1 or not kinds[0].endswith("PRIVATE KEY"):
        raise CredentialError(field, "must hold exactly one PEM private key")
    if "ENCRYPTED" in kinds[0] or "Proc-Type: 4,ENCRYPTED" in text:
        raise CredentialError(field, "is encrypted; give the key without a passphrase")
    try:
        return serialization.load_pem_private_key(text.encode("ascii"), password=None)
    except (ValueError, TypeError, NotImplementedError):
        raise CredentialError(field, "holds a private key that cannot be parsed") from None


def _token(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise CredentialError(field, "must be a string")
    token = value.strip()
    if not token:
        raise CredentialError(field, "is empty")
    if len(token) > MAX_TOKEN_CHARS:
        raise CredentialError(field, f"is longer than {MAX_TOKEN_CHARS} characters")
    if _TOKEN.fullmatch(token) is None:
        raise CredentialError(field, "may hold only printable ASCII characters without spaces")
    return token


class _Token(NamedTuple):
    value: object
    field: str


class _ClientCertificate(NamedTuple):
    certificate: object
    certificate_field: str
    key: object
    key_field: str


def _build(
    *,
    server: str,
    server_field: str,
    ca_data: object,
    ca_field: str,
    auth: _Token | _ClientCertificate,
    base64_encoded: bool,
    allowed_networks: Iterable[IPNetwork],
) -> ClusterCredentials:
    try:
        validate_server_url(server, allowed_networks)
    except CredentialError as error:
        raise CredentialError(server_field, error.message) from None
    ca = _pem_of(_certificates(ca_data, ca_field, base64_encoded=base64_encoded))
    if isinstance(auth, _Token):
        return ClusterCredentials(
            server=server.rstrip("/"), ca_data=ca, token=_token(auth.value, auth.field)
        )
    chain = _certificates(auth.certificate, auth.certificate_field, base64_encoded=base64_encoded)
    key = _private_key(auth.key, auth.key_field, base64_encoded=base64_encoded)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, spki) != chain[0].public_key().public_bytes(der, spki):
        raise CredentialError(auth.key_field, "does not belong to the client certificate")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return ClusterCredentials(
        server=server.rstrip("/"),
        ca_data=ca,
        client_certificate_data=_pem_of(chain),
        client_key_data=key_pem,
    )


def credentials_from_fields(
    *,
    server: str,
    ca_data: str,
    token: str | None = None,
    client_certificate_data: str | None = None,
    client_key_data: str | None = None,
    allowed_networks: Iterable[IPNetwork],
) -> ClusterCredentials:
    """Credentials given field by field; PEM fields take PEM text or base64 of it.

    Errors name ``credentials.<parameter name>``.
    """
    if not isinstance(server, str):
        raise CredentialError(SERVER_FIELD, "must be a string")
    has_cert = client_certificate_data is not None or client_key_data is not None
    if token is not None and has_cert:
        raise CredentialError(
            "credentials.token", "give either a token or a client certificate, not both"
        )
    if token is None and not has_cert:
        raise CredentialError(
            "credentials.token", "a token or a client certificate and key is required"
        )
    if has_cert and client_certificate_data is None:
        raise CredentialError("credentials.client_certificate_data", "is required with a key")
    if has_cert and client_key_data is None:
        raise CredentialError("credentials.client_key_data", "is required with a certificate")
    return _build(
        server=server,
        server_field=SERVER_FIELD,
        ca_data=ca_data,
        ca_field="credentials.ca_data",
        auth=_Token(token, "credentials.token")
        if token is not None
        else _ClientCertificate(
            client_certificate_data,
            "credentials.client_certificate_data",
            client_key_data,
            "credentials.client_key_data",
        ),
        base64_encoded=False,
        allowed_networks=allowed_networks,
    )


# --- Kubeconfig ------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that also refuses anchors, aliases, merge keys, duplicate keys and depth."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ComposerError(None, None, "anchors and aliases are not allowed", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise ComposerError(
                    None, None, f"nesting deeper than {MAX_YAML_DEPTH}", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConstructorError(
                    None, None, "merge keys (<<) are not allowed", key_node.start_mark
                )
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                shown = f" {key!r}" if isinstance(key, str) and len(key) <= 64 else ""
                raise ConstructorError(None, None, f"duplicate key{shown}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str) -> object:
    if not isinstance(text, str):
        raise CredentialError(KUBECONFIG_FIELD, "must be a string")
    if len(text) > MAX_KUBECONFIG_CHARS:
        raise CredentialError(KUBECONFIG_FIELD, f"is longer than {MAX_KUBECONFIG_CHARS} characters")
    unprintable = _StrictLoader.NON_PRINTABLE.search(text)
    if unprintable is not None:
        raise CredentialError(
            KUBECONFIG_FIELD,
            f"holds a control character YAML does not allow at position {unprintable.start() + 1}",
        )
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        # The problem text and position only: the context snippet could show a secret.
        where = ""
        if error.problem_mark is not None:
            where = f" (line {error.problem_mark.line + 1}, column {error.problem_mark.column + 1})"
        raise CredentialError(
            KUBECONFIG_FIELD,
            f"is not a valid YAML document: {error.problem or 'syntax error'}{where}",
        ) from None
    except yaml.YAMLError:
        raise CredentialError(KUBECONFIG_FIELD, "is not a valid YAML document") from None
    finally:
        loader.dispose()


# Fields refused wherever they appear, with the reason a user reads.
_REFUSED_CLUSTER_FIELDS = {
    "certificate-authority": "names a local file; put the CA in certificate-authority-data",
    "proxy-url": "proxies are not supported; Placer connects to the server directly",
    "tls-server-name": "is not supported; use a server URL whose name the certificate has",
}
_REFUSED_USER_FIELDS = {
    "exec": "runs a command; use a token or a client certificate instead",
    "auth-provider": "runs a command or plugin; use a token or a client certificate instead",
    "tokenFile": "names a local file; put the token itself in token",
    "client-certificate": "names a local file; use client-certificate-data",
    "client-key": "names a local file; use client-key-data",
    "username": "basic authentication is not supported; use a token or a client certificate",
    "password": "basic authentication is not supported; use a token or a client certificate",
    "as": "impersonation is not supported",
    "as-uid": "impersonation is not supported",
    "as-groups": "impersonation is not supported",
    "as-user-extra": "impersonation is not supported",
}
_CLUSTER_FIELDS = {
    "server",
    "certificate-authority-data",
    "insecure-skip-tls-verify",
    "disable-compression",
    "extensions",
}
_USER_FIELDS = {"token", "client-certificate-data", "client-key-data", "extensions"}
_CONTEXT_FIELDS = {"cluster", "user", "namespace", "extensions"}
_TOP_FIELDS = {
    "apiVersion",
    "kind",
    "clusters",
    "users",
    "contexts",
    "current-context",
    "preferences",
    "extensions",
}


def _mapping(value: object, field: str) -> Mapping[object, object]:
    if not isinstance(value, dict):
        raise CredentialError(field, "must be a mapping")
    return value


def _check_keys(
    entry: Mapping[object, object],
    field: str,
    known: set[str],
    refused: Mapping[str, str],
) -> None:
    for key in entry:
        if not isinstance(key, str):
            raise CredentialError(field, "has a key that is not a string")
        if key in refused:
            raise CredentialError(f"{field}.{key}", refused[key])
        if key not in known:
            raise CredentialError(f"{field}.{key}", "is not a supported field")


def _named_entries(
    document: Mapping[object, object],
    section: str,
    body: str,
    known: set[str],
    refused: Mapping[str, str],
) -> dict[str, tuple[str, Mapping[object, object]]]:
    """Entries of ``clusters``/``users``/``contexts`` by name, with their field paths."""
    field = f"{KUBECONFIG_FIELD}.{section}"
    entries = document.get(section)
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise CredentialError(field, "must be a list")
    by_name: dict[str, tuple[str, Mapping[object, object]]] = {}
    for index, raw in enumerate(entries):
        entry_field = f"{field}[{index}]"
        entry = _mapping(raw, entry_field)
        _check_keys(entry, entry_field, {"name", body}, {})
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise CredentialError(f"{entry_field}.name", "must be a non-empty string")
        if name in by_name:
            raise CredentialError(f"{entry_field}.name", f"{name!r} is used twice")
        body_field = f"{entry_field}.{body}"
        content = _mapping(entry.get(body), body_field)
        _check_keys(content, body_field, known, refused)
        by_name[name] = (body_field, content)
    return by_name


def _selected_context(
    document: Mapping[object, object],
    contexts: Mapping[str, tuple[str, Mapping[object, object]]],
    requested: str | None,
) -> tuple[str, Mapping[object, object]]:
    if requested is not None:
        if requested not in contexts:
            raise CredentialError(
                f"{KUBECONFIG_FIELD}.contexts", f"has no context named {requested!r}"
            )
        return contexts[requested]
    current = document.get("current-context")
    if current is not None and current != "":
        if not isinstance(current, str) or current not in contexts:
            raise CredentialError(
                f"{KUBECONFIG_FIELD}.current-context", "does not name a context of the document"
            )
        return contexts[current]
    if len(contexts) == 1:
        return next(iter(contexts.values()))
    raise CredentialError(
        f"{KUBECONFIG_FIELD}.current-context",
        "is not set and the document does not have exactly one context; name the context",
    )


def _referenced(
    context_field: str,
    context: Mapping[object, object],
    key: str,
    entries: Mapping[str, tuple[str, Mapping[object, object]]],
) -> tuple[str, Mapping[object, object]]:
    name = context.get(key)
    if not isinstance(name, str) or name not in entries:
        raise CredentialError(f"{context_field}.{key}", f"does not name a {key} of the document")
    return entries[name]


def parse_kubeconfig(
    text: str, *, allowed_networks: Iterable[IPNetwork], context: str | None = None
) -> ClusterCredentials:
    """Credentials from a kubeconfig, for ``context`` or else the document's current context.

    Nothing in the document is executed, read from disk or connected to; the server's host
    name is resolved (see the module notes).
    """
    document = _mapping(_load_yaml(text), KUBECONFIG_FIELD)
    _check_keys(document, KUBECONFIG_FIELD, _TOP_FIELDS, {})
    if document.get("apiVersion", "v1") != "v1":
        raise CredentialError(f"{KUBECONFIG_FIELD}.apiVersion", "must be v1")
    if document.get("kind", "Config") != "Config":
        raise CredentialError(f"{KUBECONFIG_FIELD}.kind", "must be Config")
    clusters = _named_entries(
        document, "clusters", "cluster", _CLUSTER_FIELDS, _REFUSED_CLUSTER_FIELDS
    )
    users = _named_entries(document, "users", "user", _USER_FIELDS, _REFUSED_USER_FIELDS)
    contexts = _named_entries(document, "contexts", "context", _CONTEXT_FIELDS, {})
    for cluster_field, cluster in clusters.values():
        if cluster.get("insecure-skip-tls-verify", False) is not False:
            raise CredentialError(
                f"{cluster_field}.insecure-skip-tls-verify",
                "must be false: Placer always verifies the server's certificate",
            )

    context_field, selected = _selected_context(document, contexts, context)
    cluster_field, cluster = _referenced(context_field, selected, "cluster", clusters)
    user_field, user = _referenced(context_field, selected, "user", users)

    server = cluster.get("server")
    if not isinstance(server, str):
        raise CredentialError(f"{cluster_field}.server", "must be a string")
    if "certificate-authority-data" not in cluster:
        raise CredentialError(
            f"{cluster_field}.certificate-authority-data",
            "is required: Placer trusts only the CA the kubeconfig names",
        )
    has_token = "token" in user
    has_cert = "client-certificate-data" in user or "client-key-data" in user
    if has_token == has_cert:
        raise CredentialError(
            user_field, "must hold either token or client-certificate-data with client-key-data"
        )
    for key in ("client-certificate-data", "client-key-data"):
        if has_cert and key not in user:
            raise CredentialError(f"{user_field}.{key}", "is required")
    return _build(
        server=server,
        server_field=f"{cluster_field}.server",
        ca_data=cluster["certificate-authority-data"],
        ca_field=f"{cluster_field}.certificate-authority-data",
        auth=_Token(user["token"], f"{user_field}.token")
        if has_token
        else _ClientCertificate(
            user["client-certificate-data"],
            f"{user_field}.client-certificate-data",
            user["client-key-data"],
            f"{user_field}.client-key-data",
        ),
        base64_encoded=True,
        allowed_networks=allowed_networks,
    )
