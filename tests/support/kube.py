"""Pytest fixtures for tests that drive real Kubernetes clusters.

``kube_fleet`` (session) starts three clusters once per test run: ``onprem-tokyo``,
``iaas-tokyo`` and ``iaas-frankfurt`` (see ``kubefleet.specs``), building the binaries first
if they are missing. Each ``Cluster`` carries its spec (name, kind, region, zones, Nodes),
``kubeconfig_path``, ``server``, ``ca_data``, ``token`` and ``api_client()``.
``kube_namespace`` gives each test its own namespace name and deletes that namespace from
every cluster afterwards, so tests share the fleet without seeing each other.

Without Go the fixture fails, saying what to install: Kubernetes tests are never skipped
silently. A developer without Go deselects them with ``-m "not kube"``.
``PLACER_KUBE_KEEP=1`` keeps the fleet's run directory (logs, etcd data) after the session.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.kubefleet import (
    DEFAULT_FLEET,
    Fleet,
    GoToolchainMissingError,
    ensure_binaries,
)

_KEEP_ENV = "PLACER_KUBE_KEEP"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the fleet are Kubernetes tests, so ``-m "not kube"`` deselects them."""
    for item in items:
        if "kube_fleet" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kube)


@pytest.fixture(scope="session")
def kube_fleet() -> Iterator[Fleet]:
    try:
        binaries = ensure_binaries()
    except GoToolchainMissingError as error:
        pytest.fail(f'{error} (Or deselect these tests with -m "not kube".)', pytrace=False)
    fleet = Fleet.start(DEFAULT_FLEET, binaries=binaries)
    try:
        yield fleet
    finally:
        fleet.stop(remove=not os.environ.get(_KEEP_ENV))


@pytest.fixture
def kube_namespace(request: pytest.FixtureRequest, kube_fleet: Fleet) -> Iterator[str]:
    """A namespace name unique to this test, removed from every cluster after the test.

    The namespace is not created: the test, or the Placer code under test, creates it in the
    clusters where it needs it.
    """
    stem = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"{stem}-{uuid.uuid4().hex[:6]}"
    yield name
    for cluster in kube_fleet.clusters:
        with cluster.api_client() as api:
            try:
                client.CoreV1Api(api).delete_namespace(name, _preload_content=False)
            except ApiException as error:
                if error.status != 404:
                    raise
