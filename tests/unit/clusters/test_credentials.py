import copy
import ipaddress
import re
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from app.clusters.credentials import (
    MAX_KUBECONFIG_CHARS,
    ClusterCredentials,
    CredentialError,
    check_connect_address,
    credentials_from_fields,
    parse_allowed_networks,
    parse_kubeconfig,
    validate_server_url,
)
from tests.unit.clusters.conftest import Guard, SideEffectError
from tests.unit.clusters.pki import SERVER, TOKEN, b64, dump, kubeconfig, pki

pytestmark = pytest.mark.usefixtures("no_side_effects")

ALLOWED = parse_allowed_networks("127.0.0.1/32")
KC = "credentials.kubeconfig"
CLUSTER = f"{KC}.clusters[0].cluster"
USER = f"{KC}.users[0].user"

Mutation = Callable[[dict[str, Any], Path], None]


def _cluster(doc: dict[str, Any]) -> dict[str, Any]:
    cluster: dict[str, Any] = doc["clusters"][0]["cluster"]
    return cluster


def _user(doc: dict[str, Any]) -> dict[str, Any]:
    user: dict[str, Any] = doc["users"][0]["user"]
    return user


def _set_cluster(**fields: Any) -> Mutation:
    return lambda doc, _: _cluster(doc).update(fields)


def _set_user(**fields: Any) -> Mutation:
    return lambda doc, _: _user(doc).update(fields)


def _server(url: str) -> Mutation:
    return _set_cluster(server=url)


def _exec_plugin(doc: dict[str, Any], hostile: Path) -> None:
    _user(doc).pop("token")
    _user(doc)["exec"] = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "sh",
        "args": ["-c", f"touch {hostile / 'pwned'}"],
    }


def _exec_in_other_user(doc: dict[str, Any], hostile: Path) -> None:
    doc["users"].append({"name": "eks", "user": {"exec": {"command": "aws"}}})


def _path_field(
    section: Callable[[dict[str, Any]], dict[str, Any]], key: str, file: str
) -> Mutation:
    return lambda doc, hostile: section(doc).update({key: str(hostile / file)})


def _client_cert_with_key_path(doc: dict[str, Any], hostile: Path) -> None:
    user = _user(doc)
    user.pop("token")
    user["client-certificate-data"] = b64(pki().client_certificate_pem)
    user["client-key"] = str(hostile / "client.key")


HOSTILE: list[tuple[str, Mutation, str, str]] = [
    ("exec plugin", _exec_plugin, f"{USER}.exec", "runs a command"),
    ("exec in an unselected user", _exec_in_other_user, f"{KC}.users[1].user.exec", "command"),
    (
        "auth-provider",
        _set_user(**{"auth-provider": {"name": "gcp", "config": {"cmd-path": "/bin/sh"}}}),
        f"{USER}.auth-provider",
        "plugin",
    ),
    ("tokenFile", _path_field(_user, "tokenFile", "token"), f"{USER}.tokenFile", "local file"),
    (
        "certificate-authority path",
        _path_field(_cluster, "certificate-authority", "ca.crt"),
        f"{CLUSTER}.certificate-authority",
        "local file",
    ),
    (
        "client-certificate path",
        _path_field(_user, "client-certificate", "client.crt"),
        f"{USER}.client-certificate",
        "local file",
    ),
    ("client-key path", _client_cert_with_key_path, f"{USER}.client-key", "local file"),
    (
        "proxy-url",
        _set_cluster(**{"proxy-url": "http://169.254.169.254"}),
        f"{CLUSTER}.proxy-url",
        "proxies",
    ),
    (
        "insecure-skip-tls-verify",
        _set_cluster(**{"insecure-skip-tls-verify": True}),
        f"{CLUSTER}.insecure-skip-tls-verify",
        "verifies",
    ),
    (
        "insecure-skip-tls-verify as a string",
        _set_cluster(**{"insecure-skip-tls-verify": "true"}),
        f"{CLUSTER}.insecure-skip-tls-verify",
        "must be false",
    ),
    (
        "tls-server-name",
        _set_cluster(**{"tls-server-name": "kubernetes"}),
        f"{CLUSTER}.tls-server-name",
        "not supported",
    ),
    ("basic auth", _set_user(username="admin", password="pw"), f"{USER}.username", "basic"),
    ("impersonation", _set_user(**{"as": "system:admin"}), f"{USER}.as", "impersonation"),
    ("unknown user field", _set_user(oidc={"x": 1}), f"{USER}.oidc", "not a supported field"),
    ("http server", _server("http://127.0.0.1:6443"), f"{CLUSTER}.server", "https"),
    ("metadata address", _server("https://169.254.169.254"), f"{CLUSTER}.server", "link-local"),
    ("other loopback", _server("https://127.0.0.2:6443"), f"{CLUSTER}.server", "loopback"),
    ("localhost name", _server("https://localhost:6443"), f"{CLUSTER}.server", "::1"),
    ("sub.localhost name", _server("https://api.localhost"), f"{CLUSTER}.server", "loopback"),
    ("IPv6 loopback", _server("https://[::1]:6443"), f"{CLUSTER}.server", "loopback"),
    (
        "IPv4-mapped metadata",
        _server("https://[::ffff:169.254.169.254]"),
        f"{CLUSTER}.server",
        "link-local",
    ),
    ("IPv4-mapped hex", _server("https://[::ffff:a9fe:a9fe]"), f"{CLUSTER}.server", "link-local"),
    ("IPv6 link-local", _server("https://[fe80::1]"), f"{CLUSTER}.server", "link-local"),
    ("IPv6 unique-local", _server("https://[fd12:3456::1]"), f"{CLUSTER}.server", "unique-local"),
    ("decimal IPv4", _server("https://2852039166"), f"{CLUSTER}.server", "169.254.169.254"),
    ("hex IPv4", _server("https://0xa9fea9fe"), f"{CLUSTER}.server", "169.254.169.254"),
    ("octal IPv4", _server("https://0251.0376.0251.0376"), f"{CLUSTER}.server", "link-local"),
    ("short IPv4", _server("https://0x7f.1"), f"{CLUSTER}.server", "write it as 127.0.0.1"),
    ("private network", _server("https://10.1.2.3"), f"{CLUSTER}.server", "private"),
    ("CGNAT", _server("https://100.64.0.1"), f"{CLUSTER}.server", "carrier-grade"),
    ("unspecified", _server("https://0.0.0.0:6443"), f"{CLUSTER}.server", "local host"),
    ("userinfo", _server("https://admin:pw@8.8.8.8"), f"{CLUSTER}.server", "user name"),
    ("query", _server("https://8.8.8.8/?redirect=x"), f"{CLUSTER}.server", "query"),
    ("backslash", _server("https://8.8.8.8\\@10.0.0.1"), f"{CLUSTER}.server", "backslash"),
    ("newline in server", _server("https://8.8.8.8\n.evil"), f"{CLUSTER}.server", "ASCII"),
    ("server not text", _server(6443), f"{CLUSTER}.server", "string"),  # type: ignore[arg-type]
    (
        "no CA",
        lambda doc, _: _cluster(doc).pop("certificate-authority-data"),
        f"{CLUSTER}.certificate-authority-data",
        "required",
    ),
    (
        "CA as raw PEM",
        _set_cluster(**{"certificate-authority-data": pki().ca_pem}),
        f"{CLUSTER}.certificate-authority-data",
        "base64",
    ),
    (
        "CA holds a private key",
        _set_cluster(**{"certificate-authority-data": b64(pki().ca_pem + pki().other_key_pem)}),
        f"{CLUSTER}.certificate-authority-data",
        "PRIVATE KEY",
    ),
    (
        "CA is garbage PEM",
        _set_cluster(**{"certificate-authority-data": b64("-----BEGIN CERTIFICATE-----\nAAAA\n")}),
        f"{CLUSTER}.certificate-authority-data",
        "cannot be parsed",
    ),
    (
        "token and certificate",
        _set_user(**{"client-certificate-data": b64(pki().client_certificate_pem)}),
        USER,
        "either",
    ),
    ("no credentials", lambda doc, _: _user(doc).pop("token"), USER, "either"),
    ("token with a newline", _set_user(token=TOKEN + "\nX-Evil: 1"), f"{USER}.token", "ASCII"),
    ("token not text", _set_user(token=12345), f"{USER}.token", "string"),
    ("wrong apiVersion", lambda doc, _: doc.update(apiVersion="v2"), f"{KC}.apiVersion", "v1"),
    ("unknown top field", lambda doc, _: doc.update(foo=1), f"{KC}.foo", "not a supported"),
    (
        "dangling current-context",
        lambda doc, _: doc.update({"current-context": "gone"}),
        f"{KC}.current-context",
        "does not name",
    ),
    (
        "duplicate cluster name",
        lambda doc, _: doc["clusters"].append(copy.deepcopy(doc["clusters"][0])),
        f"{KC}.clusters[1].name",
        "twice",
    ),
    (
        "context without user",
        lambda doc, _: doc["contexts"][0]["context"].pop("user"),
        f"{KC}.contexts[0].context.user",
        "does not name",
    ),
    ("clusters not a list", lambda doc, _: doc.update(clusters={}), f"{KC}.clusters", "list"),
]


@pytest.mark.parametrize(
    ("mutate", "field", "fragment"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_hostile_kubeconfig_is_refused_naming_the_field(
    mutate: Mutation, field: str, fragment: str, hostile_dir: Path, no_side_effects: Guard
) -> None:
    document = kubeconfig()
    mutate(document, hostile_dir)

    with pytest.raises(CredentialError) as caught:
        parse_kubeconfig(dump(document), allowed_networks=ALLOWED)

    assert caught.value.field == field
    assert fragment in caught.value.message
    assert TOKEN not in str(caught.value)
    assert not (hostile_dir / "pwned").exists()
    assert no_side_effects.resolved == [], "no name in the corpus needs a resolver"


def test_key_that_does_not_match_the_certificate_is_refused() -> None:
    document = kubeconfig(auth="certificate")
    _user(document)["client-key-data"] = b64(pki().other_key_pem)

    with pytest.raises(CredentialError) as caught:
        parse_kubeconfig(dump(document), allowed_networks=ALLOWED)

    assert caught.value.field == f"{USER}.client-key-data"
    assert "does not belong" in caught.value.message


def test_certificate_without_key_is_refused() -> None:
    document = kubeconfig(auth="certificate")
    del _user(document)["client-key-data"]

    with pytest.raises(CredentialError) as caught:
        parse_kubeconfig(dump(document), allowed_networks=ALLOWED)

    assert caught.value.field == f"{USER}.client-key-data"


def test_duplicate_key_cannot_hide_an_exec_plugin() -> None:
    # A parser keeping the first "user" would run sh; one keeping the last would not.
    text = dump(kubeconfig()).replace(
        "  user:\n    token:", "  user:\n    exec: {command: sh}\n  user:\n    token:"
    )
    assert text.count("\n  user:\n") == 2

    with pytest.raises(CredentialError) as caught:
        parse_kubeconfig(text, allowed_networks=ALLOWED)

    assert caught.value.field == KC
    assert "duplicate key 'user'" in caught.value.message


BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (BILLION_LAUGHS, "anchors and aliases"),
        ("clusters: &c []\nusers: *c", "anchors and aliases"),
        ("<<: {clusters: []}\nusers: []", "merge keys"),
        ("a: " + "[" * 100 + "]" * 100, "nesting deeper"),
        ("- not\n- a mapping", "must be a mapping"),
        ("just text", "must be a mapping"),
        ("", "must be a mapping"),
        ("clusters: []\n---\nusers: []", "another document"),
        ("users: !!python/object/apply:os.system [id]", "constructor"),
        ("clusters: [unclosed", "line 1"),
        ("kind: Config\nkind: Config", "duplicate key 'kind'"),
        ("kind: Config\x1f", "control character"),
    ],
)
def test_malformed_yaml_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(CredentialError) as caught:
        parse_kubeconfig(text, allowed_networks=ALLOWED)

    assert caught.value.field == KC
    assert fragment in caught.value.message


def test_huge_document_is_refused_before_parsing() -> None:
    text = dump(kubeconfig()) + "#" * MAX_KUBECONFIG_CHARS

    with pytest.raises(CredentialError) as caught:
        parse_kubeconfig(text, allowed_networks=ALLOWED)

    assert caught.value.field == KC
    assert "longer than" in caught.value.message


def test_yaml_error_does_not_echo_the_document() -> None:
    text = f"users:\n- name: a\n  user: {{token: {TOKEN}\n"

    with pytest.raises(CredentialError) as caught:
        parse_kubeconfig(text, allowed_networks=ALLOWED)

    assert TOKEN not in str(caught.value)


def test_token_kubeconfig_gives_its_server_ca_and_token() -> None:
    credentials = parse_kubeconfig(dump(kubeconfig()), allowed_networks=ALLOWED)

    assert credentials.server == SERVER
    assert credentials.token == TOKEN
    assert credentials.client_certificate_data is None
    assert credentials.auth_kind == "token"
    ca = x509.load_pem_x509_certificate(credentials.ca_data.encode())
    assert ca.subject.rfc4514_string() == "CN=placer-test-ca"


def test_client_certificate_kubeconfig_gives_a_matching_pem_pair() -> None:
    credentials = parse_kubeconfig(dump(kubeconfig(auth="certificate")), allowed_networks=ALLOWED)

    assert credentials.token is None
    assert credentials.auth_kind == "client-certificate"
    assert credentials.client_certificate_data is not None
    assert credentials.client_key_data is not None
    certificate = x509.load_pem_x509_certificate(credentials.client_certificate_data.encode())
    key = serialization.load_pem_private_key(credentials.client_key_data.encode(), None)
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert key.public_key().public_bytes(*spki) == certificate.public_key().public_bytes(*spki)


def test_descriptive_fields_are_accepted_and_dropped() -> None:
    document = kubeconfig()
    document["preferences"] = {}
    document["extensions"] = [{"name": "x", "extension": {"exec": "not interpreted"}}]
    document["contexts"][0]["context"]["namespace"] = "team-a"
    _cluster(document).update({"insecure-skip-tls-verify": False, "disable-compression": True})

    credentials = parse_kubeconfig(dump(document), allowed_networks=ALLOWED)

    assert credentials.server == SERVER


def test_named_context_is_used_over_the_current_one() -> None:
    document = kubeconfig()
    document["clusters"].append(
        {"name": "edge", "cluster": {**_cluster(document), "server": "https://8.8.8.8/"}}
    )
    document["contexts"].append({"name": "edge", "context": {"cluster": "edge", "user": "admin"}})

    assert parse_kubeconfig(dump(document), allowed_networks=ALLOWED).server == SERVER
    chosen = parse_kubeconfig(dump(document), allowed_networks=ALLOWED, context="edge")
    assert chosen.server == "https://8.8.8.8"

    with pytest.raises(CredentialError) as caught:
        parse_kubeconfig(dump(document), allowed_networks=ALLOWED, context="nope")
    assert caught.value.field == f"{KC}.contexts"


def test_sole_context_is_used_without_current_context() -> None:
    document = kubeconfig()
    del document["current-context"]

    assert parse_kubeconfig(dump(document), allowed_networks=ALLOWED).token == TOKEN

    document["contexts"].append({"name": "two", "context": {"cluster": "prod", "user": "admin"}})
    with pytest.raises(CredentialError) as caught:
        parse_kubeconfig(dump(document), allowed_networks=ALLOWED)
    assert caught.value.field == f"{KC}.current-context"


def test_loopback_needs_an_allowed_network() -> None:
    with pytest.raises(CredentialError) as caught:
        parse_kubeconfig(dump(kubeconfig()), allowed_networks=())

    assert caught.value.field == f"{CLUSTER}.server"
    assert "PLACER_ALLOWED_CLUSTER_NETWORKS" in caught.value.message


def test_non_canonical_spelling_is_refused_even_inside_an_allowed_network() -> None:
    with pytest.raises(CredentialError, match=re.escape("write it as 127.0.0.1")):
        validate_server_url("https://2130706433:6443", ALLOWED)


def test_guard_catches_connections_processes_and_hostile_files(
    no_side_effects: Guard, hostile_dir: Path
) -> None:
    with pytest.raises(SideEffectError):
        socket.create_connection(("127.0.0.1", 9), timeout=0.1)
    with pytest.raises(SideEffectError):
        subprocess.run(["true"], check=False)
    with pytest.raises(SideEffectError):
        (hostile_dir / "token").read_text()

    assert no_side_effects.violations == [
        "socket.connect",
        "subprocess.Popen",
        "open " + str((hostile_dir / "token").resolve()),
    ]
    no_side_effects.violations.clear()


# --- Server URLs and addresses ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8",
        "https://8.8.8.8:6443/",
        "HTTPS://8.8.8.8",
        "https://[2001:4860:4860::8888]:6443",
        "https://[64:ff9b::808:808]",
        "https://1.1.1.1/k8s/clusters/c-m-abc",
    ],
)
def test_public_addresses_are_accepted(url: str, no_side_effects: Guard) -> None:
    validate_server_url(url, ())

    assert no_side_effects.resolved == []


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("", "empty"),
        ("8.8.8.8:6443", "https"),
        ("ftp://8.8.8.8", "https"),
        ("https://", "not a host"),
        ("https://8.8.8.8#x", "fragment"),
        ("https://8.8.8.8:0", "out of range"),
        ("https://8.8.8.8:70000", "out of range"),
        ("https://8.8.8.8:-1", "not a host"),
        ("https://[::1", "not a host"),
        ("https://[1::2::3]", "not an IPv6"),
        ("https://[fe80::1%25eth0]", "not a host"),
        ("https://%31%32%37.0.0.1", "not a host"),
        ("https://exa_mple.com", "not a host"),
        ("https://-bad.example", "not a valid host name"),
        ("https://a..b", "not a valid host name"),
        ("https://bücher.example", "ASCII"),
        ("https://foo.123", "not a valid IPv4"),
        ("https://1.2.3.4.5", "not a valid IPv4"),
        ("https://256.1.1.1", "not a valid IPv4"),
        ("https://09.1.1.1", "not a valid IPv4"),
        ("https://0xzz.1", "not a valid IPv4"),
        ("https://1.0x", "unusual spelling"),
        ("https://134744072", "unusual spelling of the IPv4 address 8.8.8.8"),
        ("https://[64:ff9b::a9fe:a9fe]", "NAT64 for 169.254.169.254"),
        ("https://[2002:7f00:1::]", "6to4"),
        ("https://[2001:0:4136:e378::1]", "Teredo"),
        ("https://224.0.0.1", "multicast"),
        ("https://255.255.255.255", "reserved"),
        ("https://192.168.1.10", "private"),
        ("https://172.31.255.255", "private"),
        ("https://[::]", "unspecified"),
        ("https://[::127.0.0.1]", "legacy"),
        ("https://" + "a" * 2050, "longer than"),
    ],
)
def test_bad_server_urls_are_refused(url: str, fragment: str) -> None:
    with pytest.raises(CredentialError) as caught:
        validate_server_url(url, ())

    assert caught.value.field == "credentials.server"
    assert fragment in caught.value.message


@given(
    st.text(max_size=40)
    | st.builds(
        "https://{}".format,
        st.text(alphabet="0123456789abcdefx.:[]-@%/?#", max_size=30),
    )
)
def test_any_server_text_is_accepted_or_refused_with_a_credential_error(url: str) -> None:
    # Names resolve to nothing here, so no lookup leaves the machine.
    def no_resolver(*args: object, **kwargs: object) -> list[tuple[object, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    refusal: CredentialError | None = None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", no_resolver)
        try:
            validate_server_url(url, ())
        except CredentialError as error:
            refusal = error

    assert refusal is None or refusal.field == "credentials.server"


def _fake_resolver(
    addresses: dict[str, list[str]],
) -> Callable[..., list[tuple[Any, ...]]]:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host not in addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (ip, port, 0, 0) if ":" in ip else (ip, port),
            )
            for ip in addresses[host]
        ]

    return getaddrinfo


def test_host_name_is_accepted_when_every_address_is_public(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolver = _fake_resolver({"api.example.com": ["8.8.8.8", "2001:4860:4860::8888"]})
    monkeypatch.setattr(socket, "getaddrinfo", resolver)

    validate_server_url("https://API.example.com.:6443", ())


def test_host_name_with_one_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver = _fake_resolver({"rebind.example.com": ["8.8.8.8", "169.254.169.254"]})
    monkeypatch.setattr(socket, "getaddrinfo", resolver)

    with pytest.raises(CredentialError, match=re.escape("169.254.169.254 is link-local")):
        validate_server_url("https://rebind.example.com", ())


def test_host_name_that_does_not_resolve_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _fake_resolver({}))

    with pytest.raises(CredentialError, match="does not resolve"):
        validate_server_url("https://gone.example.com", ())


def test_local_host_name_is_resolved_by_the_system_and_checked(no_side_effects: Guard) -> None:
    name = socket.gethostname()
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(name, 443)}
    except OSError:
        pytest.skip("this machine's own name does not resolve")
    if all(ipaddress.ip_address(ip).is_global for ip in resolved):
        pytest.skip("this machine's own name resolves to public addresses")
    no_side_effects.resolved.clear()

    with pytest.raises(CredentialError):
        validate_server_url(f"https://{name}:6443", ())
    validate_server_url(f"https://{name}:6443", parse_allowed_networks("0.0.0.0/0, ::/0"))

    assert name.lower() in [host.lower() for host in no_side_effects.resolved]


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("169.254.169.254", False),
        ("::ffff:169.254.169.254", False),
        ("10.0.0.1", False),
        ("127.0.0.1", True),
        ("::ffff:127.0.0.1", True),
        ("127.0.0.2", False),
    ],
)
def test_connect_address_is_checked_against_forbidden_and_allowed_networks(
    address: str, allowed: bool
) -> None:
    if allowed:
        check_connect_address(address, ALLOWED)
    else:
        with pytest.raises(CredentialError, match=re.escape(address.removeprefix("::ffff:"))):
            check_connect_address(address, ALLOWED)


NEVER_PUBLIC = [
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
]


@given(
    st.ip_addresses(v=4)
    | st.sampled_from(NEVER_PUBLIC).flatmap(lambda net: st.ip_addresses(network=net))
)
def test_every_spelling_of_an_ipv4_address_is_judged_alike(ip: ipaddress.IPv4Address) -> None:
    def verdict(url: str) -> bool:
        try:
            validate_server_url(url, ALLOWED)
        except CredentialError:
            return False
        return True

    dotted = verdict(f"https://{ip}")
    assert verdict(f"https://[::ffff:{ip}]") == dotted
    if ip in ALLOWED[0]:
        assert dotted
    elif any(ip in network for network in NEVER_PUBLIC):
        assert not dotted
    else:
        assert dotted <= ip.is_global
    assert not verdict(f"https://{int(ip)}")
    assert not verdict(f"https://{int(ip):#x}")


@pytest.mark.parametrize(
    ("text", "networks"),
    [
        ("", ()),
        ("  ", ()),
        ("127.0.0.1/32", (ipaddress.ip_network("127.0.0.1/32"),)),
        (
            "10.0.0.0/8, fd00::/8 ,192.168.1.7",
            (
                ipaddress.ip_network("10.0.0.0/8"),
                ipaddress.ip_network("fd00::/8"),
                ipaddress.ip_network("192.168.1.7/32"),
            ),
        ),
    ],
)
def test_allowed_networks_parse(text: str, networks: tuple[object, ...]) -> None:
    assert parse_allowed_networks(text) == networks


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("10.0.0.1/8", "entry 1 '10.0.0.1/8'"),
        ("10.0.0.0/8,,fd00::/8", "entry 2 is empty"),
        ("10.0.0.0/8, localnet", "entry 2 'localnet'"),
    ],
)
def test_bad_allowed_network_is_named(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_allowed_networks(text)


# --- Field-by-field credentials and storage -----------------------------------------------


def test_fields_accept_pem_or_base64_pem() -> None:
    material = pki()
    from_pem = credentials_from_fields(
        server=SERVER, ca_data=material.ca_pem, token=f" {TOKEN}\n", allowed_networks=ALLOWED
    )
    from_base64 = credentials_from_fields(
        server=SERVER, ca_data=b64(material.ca_pem), token=TOKEN, allowed_networks=ALLOWED
    )

    assert from_pem == from_base64
    assert from_pem.token == TOKEN


def test_fields_with_client_certificate() -> None:
    material = pki()
    credentials = credentials_from_fields(
        server=SERVER,
        ca_data=material.ca_pem,
        client_certificate_data=material.client_certificate_pem,
        client_key_data=material.client_key_pem,
        allowed_networks=ALLOWED,
    )

    assert credentials.client_certificate_data == material.client_certificate_pem
    assert credentials.client_key_data is not None
    assert credentials.client_key_data.startswith("-----BEGIN PRIVATE KEY-----")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"server": "http://8.8.8.8", "token": TOKEN}, "credentials.server"),
        ({"token": TOKEN, "client_key_data": "k"}, "credentials.token"),
        ({}, "credentials.token"),
        ({"client_key_data": pki().client_key_pem}, "credentials.client_certificate_data"),
        ({"client_certificate_data": pki().ca_pem}, "credentials.client_key_data"),
        ({"ca_data": "not a certificate", "token": TOKEN}, "credentials.ca_data"),
        ({"token": "two words"}, "credentials.token"),
        ({"token": "   "}, "credentials.token"),
        (
            {
                "client_certificate_data": pki().client_certificate_pem,
                "client_key_data": pki().other_key_pem,
            },
            "credentials.client_key_data",
        ),
        (
            {
                "client_certificate_data": pki().client_certificate_pem,
                "client_key_data": pki().ca_pem,
            },
            "credentials.client_key_data",
        ),
    ],
)
def test_bad_fields_are_named(fields: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"server": SERVER, "ca_data": pki().ca_pem, **fields}

    with pytest.raises(CredentialError) as caught:
        credentials_from_fields(**arguments, allowed_networks=ALLOWED)

    assert caught.value.field == field


def test_encrypted_key_is_refused_with_a_hint() -> None:
    key = serialization.load_pem_private_key(pki().client_key_pem.encode(), None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()

    with pytest.raises(CredentialError, match="passphrase"):
        credentials_from_fields(
            server=SERVER,
            ca_data=pki().ca_pem,
            client_certificate_data=pki().client_certificate_pem,
            client_key_data=encrypted,
            allowed_networks=ALLOWED,
        )


def test_repr_and_errors_never_show_secrets() -> None:
    credentials = parse_kubeconfig(dump(kubeconfig(auth="certificate")), allowed_networks=ALLOWED)
    token_credentials = parse_kubeconfig(dump(kubeconfig()), allowed_networks=ALLOWED)

    assert "PRIVATE KEY" not in repr(credentials)
    assert TOKEN not in repr(token_credentials)
    assert TOKEN not in str(token_credentials)
    assert SERVER in repr(token_credentials)
    with pytest.raises(CredentialError) as caught:
        credentials_from_fields(
            server=SERVER, ca_data=pki().ca_pem, token=TOKEN + "\x00", allowed_networks=ALLOWED
        )
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("auth", ["token", "certificate"])
def test_storage_round_trip(auth: str) -> None:
    credentials = parse_kubeconfig(dump(kubeconfig(auth=auth)), allowed_networks=ALLOWED)

    assert ClusterCredentials.from_json(credentials.to_json()) == credentials


@pytest.mark.parametrize(
    "data",
    [
        b"[]",
        b'{"version": 2}',
        b'{"version": 2, "server": "s", "ca_data": "c", "token": "t",'
        b' "client_certificate_data": null, "client_key_data": null}',
        b'{"version": 1, "server": "s", "ca_data": "c", "token": 5,'
        b' "client_certificate_data": null, "client_key_data": null}',
        b'{"version": 1, "server": "s", "ca_data": "c", "token": null,'
        b' "client_certificate_data": null, "client_key_data": null}',
        b'{"version": 1, "server": "s", "ca_data": "c", "token": "t",'
        b' "client_certificate_data": "c", "client_key_data": null}',
    ],
)
def test_corrupt_storage_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError: the store is corrupt
        ClusterCredentials.from_json(data)


def test_kubeconfig_generated_by_kubectl_style_dump_parses() -> None:
    # Block scalars and quoting as other tools write them are plain YAML and must pass.
    document = kubeconfig()
    text = yaml.safe_dump(document, default_flow_style=False, default_style='"')

    assert parse_kubeconfig(text, allowed_networks=ALLOWED).token == TOKEN


def test_key_written_by_openssl_ecparam_with_its_parameters_block_is_accepted() -> None:
    parameters = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"

    credentials = credentials_from_fields(
        server=SERVER,
        ca_data=pki().ca_pem,
        client_certificate_data=pki().client_certificate_pem,
        client_key_data=parameters + pki().client_key_pem,
        allowed_networks=ALLOWED,
    )

    assert credentials.auth_kind == "client-certificate"


_KUBECONFIG_WORDS = st.sampled_from(
    (
        "clusters",
        "users",
        "contexts",
        "cluster",
        "user",
        "context",
        "name",
        "server",
        "token",
        "exec",
        "prod",
        "admin",
        "certificate-authority-data",
        "current-context",
        SERVER,
    )
)
_YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _KUBECONFIG_WORDS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(_KUBECONFIG_WORDS, inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.text(max_size=200) | _YAML_VALUES.map(yaml.safe_dump))
def test_any_document_is_accepted_or_refused_with_a_credential_error(text: str) -> None:
    try:
        parse_kubeconfig(text, allowed_networks=ALLOWED)
    except CredentialError as error:
        assert error.field.startswith(KC)  # noqa: PT017 - the field of any refusal
