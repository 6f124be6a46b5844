"""Builders of valid API payloads and credentials; tests override only what they are about."""

from __future__ import annotations

import base64
import datetime
from functools import cache
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TEST_SERVER = "https://127.0.0.1:6443"
TEST_BEARER = "eyJhbGciOiJSUzI1NiJ9.cluster-secret-token.c2lnbmF0dXJl"


def cluster_payload(name: str = "aws-tokyo", **overrides: Any) -> dict[str, Any]:
    """A valid IaaS cluster in Japan, without credentials or price book."""
    payload: dict[str, Any] = {
        "name": name,
        "kind": "iaas",
        "provider": "aws",
        "region": "ap-northeast-1",
        "zones": ["ap-northeast-1a", "ap-northeast-1c"],
        "country": "JP",
        "labels": {"env": "prod", "tier": "web"},
        "taints": [],
        "capacity": {"cpu": "64", "memory": "256Gi", "pods": "1100"},
    }
    payload.update(overrides)
    return payload


def iaas_price_book(
    name: str = "aws-on-demand", effective_from: str = "2026-01-01T00:00:00Z", **rates: str
) -> dict[str, Any]:
    """A valid IaaS price book with its first version."""
    return {
        "name": name,
        "kind": "iaas",
        "currency": "USD",
        "version": {
            "effectiveFrom": effective_from,
            "rates": {
                "cpuPerVcpuHour": rates.get("cpu", "0.0416"),
                "memoryPerGibHour": rates.get("memory", "0.0052"),
                "gpuPerGpuHour": rates.get("gpu", "2.48"),
            },
        },
    }


def onprem_price_book(
    name: str = "dc-tokyo-tco", monthly: str = "38000", effective_from: str = "2026-01-01T00:00:00Z"
) -> dict[str, Any]:
    """A valid on-prem price book with its first version."""
    return {
        "name": name,
        "kind": "onprem",
        "currency": "USD",
        "version": {"effectiveFrom": effective_from, "monthlyFixedCost": monthly},
    }


@cache
def ca_pem() -> str:
    """A self-signed CA certificate made for this test run (no key material is committed)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "placer-api-test-ca")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def kubeconfig_document(server: str = TEST_SERVER, token: str = TEST_BEARER) -> dict[str, Any]:
    """A kubeconfig with one context, an inline CA and a bearer token."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "main",
        "clusters": [
            {
                "name": "main",
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem().encode()).decode(),
                },
            }
        ],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": "main", "context": {"cluster": "main", "user": "admin"}}],
    }


def kubeconfig_text(document: dict[str, Any] | None = None) -> str:
    """A kubeconfig document as YAML text."""
    return yaml.safe_dump(document if document is not None else kubeconfig_document())
