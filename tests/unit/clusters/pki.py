"""Test certificates and kubeconfigs, generated per test run so no key material is committed."""

from __future__ import annotations

import base64
import copy
import datetime
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Pki:
    ca_pem: str
    client_certificate_pem: str
    client_key_pem: str
    other_key_pem: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey, fmt: serialization.PrivateFormat) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


@cache
def pki() -> Pki:
    """A CA and a client certificate it signed (EC P-256: quick to generate)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("placer-test-ca"))
        .issuer_name(_name("placer-test-ca"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = (
        x509.CertificateBuilder()
        .subject_name(_name("placer-admin"))
        .issuer_name(ca.subject)
        .public_key(client_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )
    return Pki(
        ca_pem=ca.public_bytes(serialization.Encoding.PEM).decode(),
        client_certificate_pem=client.public_bytes(serialization.Encoding.PEM).decode(),
        client_key_pem=_key_pem(client_key, serialization.PrivateFormat.TraditionalOpenSSL),
        other_key_pem=_key_pem(
            ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.PKCS8
        ),
    )


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


TOKEN = "eyJhbGciOiJSUzI1NiJ9.placer-test-token.c2lnbmF0dXJl"
SERVER = "https://127.0.0.1:6443"


def kubeconfig(*, auth: str = "token", server: str = SERVER) -> dict[str, Any]:
    """A minimal, valid kubeconfig as a mapping, for tests to alter."""
    material = pki()
    user: dict[str, Any]
    if auth == "token":
        user = {"token": TOKEN}
    else:
        user = {
            "client-certificate-data": b64(material.client_certificate_pem),
            "client-key-data": b64(material.client_key_pem),
        }
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "prod",
                "cluster": {"server": server, "certificate-authority-data": b64(material.ca_pem)},
            }
        ],
        "users": [{"name": "admin", "user": user}],
        "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "admin"}}],
        "current-context": "prod",
    }


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(copy.deepcopy(document), sort_keys=False)
