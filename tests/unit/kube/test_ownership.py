"""Everything Placer deploys is labelled as its own, and a divided placement sets replicas."""

from __future__ import annotations

from typing import Any

import pytest

from app.kube import (
    MANAGED_BY_LABEL,
    WORKLOAD_ID_LABEL,
    ownership_selector,
    stamp_ownership,
    workload_id_of,
)
from app.kubetypes import LabelError


def _deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 6,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }


def test_object_and_pod_template_carry_the_ownership_labels_selector_untouched() -> None:
    stamped = stamp_ownership(_deployment(), workload_id="wl-42")

    expected = {"app": "web", MANAGED_BY_LABEL: "placer", WORKLOAD_ID_LABEL: "wl-42"}
    assert stamped["metadata"]["labels"] == expected
    assert stamped["spec"]["template"]["metadata"]["labels"] == expected
    assert stamped["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert workload_id_of(stamped) == "wl-42"


def test_the_given_manifest_is_left_as_it_was() -> None:
    original = _deployment()
    stamp_ownership(original, workload_id="wl-42", replicas=2)

    assert original == _deployment()


def test_replicas_set_the_clusters_share() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "batch"}, "spec": {}}

    assert stamp_ownership(_deployment(), workload_id="w", replicas=2)["spec"]["replicas"] == 2
    assert stamp_ownership(job, workload_id="w", replicas=3)["spec"]["parallelism"] == 3


def test_replicas_for_a_kind_without_them_are_refused() -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}

    with pytest.raises(ValueError, match="ConfigMap has no replicas"):
        stamp_ownership(config, workload_id="w", replicas=2)
    assert stamp_ownership(config, workload_id="w")["metadata"]["labels"][WORKLOAD_ID_LABEL] == "w"


def test_workload_id_must_be_a_label_value() -> None:
    with pytest.raises(LabelError):
        stamp_ownership(_deployment(), workload_id="not a label value!")


def test_selector_finds_all_of_placers_objects_or_one_workloads() -> None:
    assert ownership_selector() == "app.kubernetes.io/managed-by=placer"
    assert ownership_selector("wl-42") == (
        "app.kubernetes.io/managed-by=placer,placer.io/workload-id=wl-42"
    )


def test_objects_placer_does_not_manage_have_no_workload() -> None:
    foreign = {"metadata": {"labels": {WORKLOAD_ID_LABEL: "wl-42", MANAGED_BY_LABEL: "helm"}}}

    assert workload_id_of(foreign) is None
