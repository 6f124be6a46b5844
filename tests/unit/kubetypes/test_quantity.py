import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.kubetypes import QuantityError, format_resource, parse_resource


@pytest.mark.parametrize(
    ("resource", "text", "amount", "canonical"),
    [
        ("cpu", "500m", 500, "500m"),
        ("cpu", "1.5", 1500, "1500m"),
        ("cpu", 2, 2000, "2"),
        ("cpu", 0.25, 250, "250m"),
        ("cpu", "2e3", 2_000_000, "2000"),
        ("memory", "64Gi", 64 * 2**30, "64Gi"),
        ("memory", "1.5Gi", 1536 * 2**20, "1536Mi"),
        ("memory", "129M", 129_000_000, "129M"),
        ("memory", "1000", 1000, "1k"),
        ("memory", "1023", 1023, "1023"),
        ("memory", "0", 0, "0"),
        ("pods", "110", 110, "110"),
        ("nvidia.com/gpu", "8", 8, "8"),
    ],
)
def test_quantities_parse_to_base_units_and_format_back(
    resource: str, text: str | int | float, amount: int, canonical: str
) -> None:
    assert parse_resource(resource, text) == amount
    assert format_resource(resource, amount) == canonical
    assert parse_resource(resource, canonical) == amount


@pytest.mark.parametrize(
    ("resource", "text", "says"),
    [
        ("cpu", "1u", "millicores"),
        ("memory", "100m", "whole number of bytes"),
        ("nvidia.com/gpu", "0.5", "whole number"),
        ("cpu", "-1", "negative"),
        ("cpu", "abc", "not a Kubernetes quantity"),
        ("cpu", "", "not a Kubernetes quantity"),
        ("memory", "1Kix", "not a Kubernetes quantity"),
        ("memory", "1 Gi", "not a Kubernetes quantity"),
        ("memory", "1e40", "too large"),
        ("cpu", True, "not a quantity"),
    ],
)
def test_bad_quantities_are_refused_with_the_reason(
    resource: str, text: str | int, says: str
) -> None:
    with pytest.raises(QuantityError, match=says):
        parse_resource(resource, text)


@given(
    st.sampled_from(["cpu", "memory", "pods", "ephemeral-storage"]),
    st.integers(min_value=0, max_value=2**62),
)
def test_every_amount_survives_a_round_trip_through_its_kubernetes_form(
    resource: str, amount: int
) -> None:
    assert parse_resource(resource, format_resource(resource, amount)) == amount
