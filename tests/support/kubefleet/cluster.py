"""One test cluster: kube-apiserver, kube-controller-manager and the node simulator."""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
from dataclasses import asdict
from pathlib import Path

import httpx
from kubernetes import client, config

from tests.support.kubefleet.build import Binaries
from tests.support.kubefleet.kubeconfig import KubeconfigEntry, write_kubeconfig
from tests.support.kubefleet.objects import name_of, node_ready
from tests.support.kubefleet.pki import ClusterCredentials, create_credentials
from tests.support.kubefleet.processes import ManagedProcess, wait_until
from tests.support.kubefleet.specs import ClusterSpec

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"

# The controllers that make workloads behave: no node lifecycle (simulated Nodes send no
# heartbeats and would be tainted and evicted), no cloud, volume or certificate controllers.
CONTROLLERS = (
    "namespace-controller",
    "garbage-collector-controller",
    "deployment-controller",
    "replicaset-controller",
    "statefulset-controller",
    "daemonset-controller",
    "job-controller",
    "cronjob-controller",
    "ttl-after-finished-controller",
    "disruption-controller",
    "resourcequota-controller",
    "serviceaccount-controller",
    "endpointslice-controller",
)


class Cluster:
    """A running test cluster, reachable at ``server`` with ``kubeconfig_path``.

    ``stop_apiserver`` and ``start_apiserver`` take the API away and bring it back (same port,
    credentials and data) so tests can see how Placer treats an unreachable cluster.
    """

    def __init__(
        self,
        spec: ClusterSpec,
        directory: Path,
        *,
        port: int,
        etcd_url: str,
        binaries: Binaries,
        die_with_parent: bool,
    ) -> None:
        self.spec = spec
        self.directory = directory
        self.port = port
        self._die_with_parent = die_with_parent
        self.credentials: ClusterCredentials = create_credentials(directory / "pki", spec.name)
        self.kubeconfig_path = directory / "kubeconfig"
        write_kubeconfig(self.kubeconfig_path, [self.kubeconfig_entry], current=spec.name)
        nodes_path = directory / "nodes.json"
        nodes_path.write_text(json.dumps([asdict(node) for node in spec.nodes], indent=2))
        self._apiserver = ManagedProcess(
            "kube-apiserver", self._apiserver_command(binaries, etcd_url), directory
        )
        self._controller_manager = ManagedProcess(
            "kube-controller-manager",
            [
                str(binaries.kube_controller_manager),
                f"--kubeconfig={self.kubeconfig_path}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                f"--cluster-name={spec.name}",
                f"--controllers={','.join(CONTROLLERS)}",
            ],
            directory,
        )
        self._node_simulator = ManagedProcess(
            "node-simulator",
            [
                sys.executable,
                "-m",
                "tests.support.kubefleet.nodesim",
                f"--kubeconfig={self.kubeconfig_path}",
                f"--nodes={nodes_path}",
                f"--region={spec.region}",
            ],
            directory,
            env={**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT)},
            cwd=REPOSITORY_ROOT,
        )

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return self.credentials.token

    @property
    def ca_pem(self) -> bytes:
        return self.credentials.ca_pem

    @property
    def ca_data(self) -> str:
        """The CA certificate as a kubeconfig's ``certificate-authority-data`` holds it."""
        return base64.b64encode(self.ca_pem).decode()

    @property
    def kubeconfig_entry(self) -> KubeconfigEntry:
        return KubeconfigEntry(self.name, self.server, self.credentials.ca_pem, self.token)

    def api_client(self) -> client.ApiClient:
        """A new client of the official library, configured from this cluster's kubeconfig."""
        api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(self.kubeconfig_path)
        )
        return api

    def start_apiserver(self, timeout: float = 90.0) -> None:
        """Start kube-apiserver (again) and wait until it is ready.

        After an outage the controller manager is restarted too, as a control plane comes back
        as a whole: left alone, its informers back off for up to a minute before they watch
        again, and Deployments created meanwhile get no pods.
        """
        self.start_apiserver_process()
        self.wait_apiserver_ready(timeout)
        if self._controller_manager.running():
            self._controller_manager.stop(timeout=3.0)
            self._controller_manager.start(die_with_parent=self._die_with_parent)

    def start_apiserver_process(self) -> None:
        self._apiserver.start(die_with_parent=self._die_with_parent)

    def stop_apiserver(self, grace: float = 3.0) -> None:
        """Take the API away: SIGTERM, then SIGKILL after grace seconds.

        A graceful shutdown would wait for the controller manager's and simulator's watches
        to drain (15 s and more); an outage does not wait either.
        """
        self._apiserver.stop(timeout=grace)

    def start_components(self) -> None:
        """Start what works through the API; the apiserver must be ready."""
        self._controller_manager.start(die_with_parent=self._die_with_parent)
        self._node_simulator.start(die_with_parent=self._die_with_parent)

    def stop(self) -> None:
        for process in (self._node_simulator, self._controller_manager, self._apiserver):
            process.stop()

    def check_processes(self) -> None:
        """Raise ProcessExitedError if a component of this cluster exited."""
        for process in (self._apiserver, self._controller_manager, self._node_simulator):
            if process.pid is not None:
                process.ensure_running()

    def wait_apiserver_ready(self, timeout: float) -> None:
        context = ssl.create_default_context(cadata=self.ca_pem.decode())
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(verify=context, headers=headers, timeout=5.0) as http:

            def ready() -> bool:
                try:
                    return http.get(f"{self.server}/readyz").status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(
                ready,
                timeout,
                f"kube-apiserver of {self.name} at {self.server}/readyz",
                check=self._apiserver.ensure_running,
                interval=0.25,
            )

    def wait_workloads_ready(self, timeout: float) -> None:
        """Wait until the Nodes are Ready and the controller manager has filled namespaces."""
        with self.api_client() as api:
            core = client.CoreV1Api(api)
            wanted = {node.name for node in self.spec.nodes}

            def nodes_ready() -> bool:
                return wanted <= {name_of(n) for n in core.list_node().items if node_ready(n)}

            def controllers_running() -> bool:
                accounts = core.list_namespaced_service_account("default").items
                return "default" in {name_of(account) for account in accounts}

            wait_until(nodes_ready, timeout, f"Nodes of {self.name}", check=self.check_processes)
            wait_until(
                controllers_running,
                timeout,
                f"kube-controller-manager of {self.name}",
                check=self.check_processes,
            )

    def _apiserver_command(self, binaries: Binaries, etcd_url: str) -> list[str]:
        pki = self.credentials
        return [
            str(binaries.kube_apiserver),
            f"--etcd-servers={etcd_url}",
            f"--etcd-prefix=/clusters/{self.name}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.port}",
            # No default route on the test machines; the `kubernetes` Service needs none.
            "--endpoint-reconciler-type=none",
            f"--cert-dir={self.directory / 'pki'}",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={pki.service_account_key}",
            f"--service-account-signing-key-file={pki.service_account_key}",
            f"--token-auth-file={pki.token_file}",
            "--authorization-mode=RBAC",
            # No token controller runs, so pods must not wait for service-account tokens.
            "--disable-admission-plugins=ServiceAccount",
            "--profiling=false",
        ]
