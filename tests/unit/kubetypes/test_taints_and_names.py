import pytest

from app.kubetypes import (
    InvalidNameError,
    Taint,
    TaintEffect,
    TaintError,
    Toleration,
    untolerated_taints,
    validate_dns1123_label,
    validate_dns1123_subdomain,
)

GPU = Taint("nvidia.com/gpu", "present", TaintEffect.NO_SCHEDULE)
DEDICATED = Taint("dedicated", "finance", TaintEffect.NO_EXECUTE)


@pytest.mark.parametrize(
    ("toleration", "tolerated"),
    [
        ({"key": "nvidia.com/gpu", "operator": "Exists"}, [GPU]),
        ({"key": "nvidia.com/gpu", "value": "present"}, [GPU]),
        ({"key": "nvidia.com/gpu", "value": "absent"}, []),
        ({"operator": "Exists"}, [GPU, DEDICATED]),
        ({"operator": "Exists", "effect": "NoExecute"}, [DEDICATED]),
        ({"key": "dedicated", "value": "finance", "effect": "NoSchedule"}, []),
    ],
)
def test_tolerations_match_taints_as_kubernetes_does(
    toleration: dict[str, str], tolerated: list[Taint]
) -> None:
    parsed = Toleration.from_spec(toleration)
    left = untolerated_taints([parsed], [GPU, DEDICATED])
    assert [t for t in (GPU, DEDICATED) if t not in left] == tolerated


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"key": "a", "value": "b", "effect": "Sometimes"}, "effect"),
        ({"key": "a b", "effect": "NoSchedule"}, "key"),
        ({"key": "a", "value": "-", "effect": "NoSchedule"}, "value"),
        ({"key": "a", "effect": "NoSchedule", "extra": 1}, "extra"),
    ],
)
def test_bad_taints_name_the_field(spec: dict[str, str], field: str) -> None:
    with pytest.raises(TaintError) as caught:
        Taint.from_spec(spec)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"key": "a", "operator": "Maybe"}, "operator"),
        ({"key": "a", "operator": "Exists", "value": "x"}, "value"),
        ({"value": "x"}, "key"),
        ({"operator": "Exists", "effect": "Never"}, "effect"),
    ],
)
def test_bad_tolerations_name_the_field(spec: dict[str, str], field: str) -> None:
    with pytest.raises(TaintError) as caught:
        Toleration.from_spec(spec)
    assert caught.value.field == field


def test_taints_and_tolerations_round_trip_through_their_object_form() -> None:
    assert Taint.from_spec(GPU.to_spec()) == GPU
    toleration = Toleration.from_spec({"key": "dedicated", "operator": "Exists"})
    assert Toleration.from_spec(toleration.to_spec()) == toleration
    assert str(GPU) == "nvidia.com/gpu=present:NoSchedule"


@pytest.mark.parametrize("name", ["a", "tokyo-1", "a" * 63, "0abc"])
def test_dns1123_labels_accept_kubernetes_names(name: str) -> None:
    validate_dns1123_label(name)


@pytest.mark.parametrize("name", ["", "A", "-a", "a-", "a_b", "a.b", "a" * 64])
def test_dns1123_labels_refuse_other_names(name: str) -> None:
    with pytest.raises(InvalidNameError):
        validate_dns1123_label(name)


def test_dns1123_subdomains_allow_dots_but_not_empty_parts() -> None:
    validate_dns1123_subdomain("example.com")
    with pytest.raises(InvalidNameError):
        validate_dns1123_subdomain("example..com")
