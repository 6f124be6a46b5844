"""Kubeconfig files for test clusters: bearer token, CA inline, no TLS shortcuts."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class KubeconfigEntry:
    """How to reach one cluster as its administrator."""

    name: str
    server: str
    ca_pem: bytes
    token: str


def write_kubeconfig(path: Path, entries: list[KubeconfigEntry], current: str) -> None:
    """Write one context per entry, named after the cluster, and select current."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": entry.name,
                "cluster": {
                    "server": entry.server,
                    "certificate-authority-data": base64.b64encode(entry.ca_pem).decode(),
                },
            }
            for entry in entries
        ],
        "users": [
            {"name": f"{entry.name}-admin", "user": {"token": entry.token}} for entry in entries
        ],
        "contexts": [
            {
                "name": entry.name,
                "context": {"cluster": entry.name, "user": f"{entry.name}-admin"},
            }
            for entry in entries
        ],
        "current-context": current,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
