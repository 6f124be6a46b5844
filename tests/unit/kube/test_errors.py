"""Kubernetes failures map to Placer's temporary/permanent tree with the server's message."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException
from kubernetes.client.rest import RESTResponse

from app.kube.errors import (
    KubeConcurrencyError,
    KubeConflictError,
    KubeError,
    KubeForbiddenError,
    KubeInvalidError,
    KubeNotFoundError,
    KubeRedirectError,
    KubeServerError,
    KubeUnauthorizedError,
    KubeUnreachableError,
    PermanentKubeError,
    TemporaryKubeError,
    kube_error,
)


def _status(code: int, reason: str, message: str, **details: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        document["details"] = details
    return document


def _api_exception(
    status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None
) -> ApiException:
    """The exception exactly as the client raises it for an HTTP answer."""
    data = body if isinstance(body, str) else json.dumps(body)
    response = RESTResponse(
        urllib3.HTTPResponse(body=data.encode(), status=status, headers=headers or {})
    )
    try:
        ApiException.from_response(http_resp=response, body=data, data=None)
    except ApiException as error:
        return error
    raise AssertionError("from_response always raises")


FIELD_CONFLICT = _status(
    409,
    "Conflict",
    'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas',
    name="web",
    group="apps",
    kind="deployments",
    causes=[
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "kubectl-edit" using apps/v1',
            "field": ".spec.replicas",
        }
    ],
)
STALE_WRITE = _status(
    409,
    "Conflict",
    'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; '
    "please apply your changes to the latest version and try again",
)
INVALID = _status(
    422,
    "Invalid",
    'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than '
    "or equal to 0",
    causes=[
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: -1: must be greater than or equal to 0",
            "field": "spec.replicas",
        }
    ],
)
TERMINATING = _status(
    403,
    "Forbidden",
    'configmaps "settings" is forbidden: unable to create new content in namespace shop '
    "because it is being terminated",
    causes=[
        {
            "reason": "NamespaceTerminating",
            "message": "namespace shop is being terminated",
            "field": "metadata.namespace",
        }
    ],
)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, _status(401, "Unauthorized", "Unauthorized"), KubeUnauthorizedError),
        (
            403,
            _status(403, "Forbidden", 'nodes is forbidden: User "placer" cannot list nodes'),
            KubeForbiddenError,
        ),
        (404, _status(404, "NotFound", 'deployments.apps "web" not found'), KubeNotFoundError),
        (
            409,
            _status(409, "AlreadyExists", 'namespaces "shop" already exists'),
            KubeConflictError,
        ),
        (409, FIELD_CONFLICT, KubeConflictError),
        (409, STALE_WRITE, KubeConcurrencyError),
        (403, TERMINATING, KubeConcurrencyError),
        (
            400,
            _status(400, "BadRequest", "the body of the request was in an unknown format"),
            KubeInvalidError,
        ),
        (422, INVALID, KubeInvalidError),
        (
            410,
            _status(410, "Expired", "The provided continue parameter is too old"),
            KubeServerError,
        ),
        (429, _status(429, "TooManyRequests", "Too many requests"), KubeServerError),
        (500, _status(500, "InternalError", "Internal error occurred: etcd"), KubeServerError),
        (502, "Bad Gateway", KubeServerError),
        (503, _status(503, "ServiceUnavailable", "the server is shutting down"), KubeServerError),
        (504, _status(504, "Timeout", "the request timed out"), KubeServerError),
        (501, _status(501, "NotImplemented", "not implemented"), PermanentKubeError),
    ],
)
def test_each_answer_maps_to_its_error_with_the_servers_message(
    status: int, body: dict[str, Any] | str, expected: type[KubeError]
) -> None:
    error = kube_error(_api_exception(status, body))

    assert type(error) is expected
    assert error.status == status
    if isinstance(body, dict):
        assert error.message == body["message"]
        assert error.reason == body["reason"]
    else:
        assert body in error.message


def test_temporary_and_permanent_split_as_a_retrying_caller_needs() -> None:
    assert isinstance(kube_error(_api_exception(409, STALE_WRITE)), TemporaryKubeError)
    assert isinstance(kube_error(_api_exception(503, "down")), TemporaryKubeError)
    assert isinstance(kube_error(_api_exception(409, FIELD_CONFLICT)), PermanentKubeError)
    assert isinstance(kube_error(_api_exception(422, INVALID)), PermanentKubeError)


def test_invalid_object_names_the_offending_fields() -> None:
    error = kube_error(_api_exception(422, INVALID))

    assert [(cause.field, cause.reason) for cause in error.causes] == [
        ("spec.replicas", "FieldValueInvalid")
    ]
    assert "must be greater than or equal to 0" in error.message


def test_field_conflict_names_the_other_manager() -> None:
    error = kube_error(_api_exception(409, FIELD_CONFLICT))

    assert error.causes[0].field == ".spec.replicas"
    assert "kubectl-edit" in error.causes[0].message


def test_retry_after_header_is_the_retry_hint() -> None:
    error = kube_error(
        _api_exception(429, _status(429, "TooManyRequests", "slow down"), {"Retry-After": "7"})
    )

    assert isinstance(error, TemporaryKubeError)
    assert error.retry_after == 7.0


def test_retry_after_seconds_in_the_status_is_the_retry_hint() -> None:
    body = _status(500, "InternalError", "etcd leader changed", retryAfterSeconds=2)
    error = kube_error(_api_exception(500, body))

    assert isinstance(error, TemporaryKubeError)
    assert error.retry_after == 2.0


def test_redirect_is_refused_and_names_its_target() -> None:
    error = kube_error(_api_exception(307, "", {"Location": "https://elsewhere.example/api"}))

    assert isinstance(error, KubeRedirectError)
    assert "https://elsewhere.example/api" in error.message


def test_long_bodies_are_shortened() -> None:
    error = kube_error(_api_exception(500, "x" * 10_000))

    assert len(error.message) <= 1000


def test_interrupted_tls_handshake_is_temporary() -> None:
    error = kube_error(
        ApiException(status=0, reason="SSLError\nEOF occurred in violation of protocol (_ssl.c)")
    )

    assert isinstance(error, KubeUnreachableError)


def test_transport_failures_without_an_answer_are_unreachable() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        closed_port = placeholder.getsockname()[1]
    url = f"http://127.0.0.1:{closed_port}/readyz"
    with pytest.raises(urllib3.exceptions.NewConnectionError) as refused:
        urllib3.PoolManager(retries=False).request("GET", url)
    with pytest.raises(urllib3.exceptions.MaxRetryError) as exhausted:
        urllib3.PoolManager(retries=0).request("GET", url)

    assert isinstance(kube_error(refused.value), KubeUnreachableError)
    assert isinstance(kube_error(exhausted.value), KubeUnreachableError)
    assert isinstance(kube_error(ConnectionResetError()), KubeUnreachableError)


def test_errors_of_our_own_pass_through_and_others_are_refused() -> None:
    original = KubeNotFoundError("gone")

    assert kube_error(original) is original
    with pytest.raises(TypeError):
        kube_error(RuntimeError("not from the client"))
