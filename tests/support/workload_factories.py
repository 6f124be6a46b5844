"""Builders of valid workload payloads; tests override only what they are about."""

from __future__ import annotations

from typing import Any


def deployment(
    name: str = "web",
    *,
    replicas: int = 2,
    cpu: str = "500m",
    memory: str = "1Gi",
    namespace: str | None = None,
) -> dict[str, Any]:
    """A Deployment whose one container requests ``cpu`` and ``memory`` per replica."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "main",
                            "image": "nginx:1.27",
                            "resources": {"requests": {"cpu": cpu, "memory": memory}},
                        }
                    ]
                },
            },
        },
    }


def workload_payload(name: str = "web", **overrides: Any) -> dict[str, Any]:
    """A valid workload of team ``shop``: one Deployment of 2 replicas, placed on one cluster."""
    payload: dict[str, Any] = {
        "name": name,
        "namespace": "shop",
        "team": "shop",
        "labels": {"tier": "web"},
        "manifests": [deployment(name)],
        "placement": {"strategy": "single"},
    }
    payload.update(overrides)
    return payload
