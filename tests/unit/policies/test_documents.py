"""Parsing policy documents: the shipped samples load, bad input gets a precise error."""

from pathlib import Path

import pytest

from app.policies import BudgetPolicy, PlacementPolicy, PolicyError, load_directory, parse_documents
from app.scheduling.types import MICROS

POLICY_DIR = Path(__file__).resolve().parents[3] / "policies"

VALID = """
apiVersion: placer/v1
kind: PlacementPolicy
metadata: {name: p}
spec:
  match: workload.labels["data-class"] == "personal"
  rules:
    - require: cluster.country == "JP"
"""


def test_shipped_samples_load_with_their_rules() -> None:
    documents = {d.name: d for d in load_directory(POLICY_DIR)}
    assert set(documents) == {
        "personal-data-stays-in-japan",
        "restricted-data-onprem",
        "eu-customer-data-in-eu",
        "team-payments-budget",
        "prefer-onprem",
    }
    japan = documents["personal-data-stays-in-japan"]
    assert isinstance(japan, PlacementPolicy)
    assert [r.name for r in japan.rules] == ["in-japan", "prefer-onprem"]
    budget = documents["team-payments-budget"]
    assert isinstance(budget, BudgetPolicy)
    assert budget.monthly_limit == 20_000 * MICROS
    assert budget.workload_hourly_limit == 15 * MICROS


@pytest.mark.parametrize(
    ("old", "new", "field", "position", "words"),
    [
        ("apiVersion: placer/v1", "apiVersion: v1", "apiVersion", None, "placer/v1"),
        ("kind: PlacementPolicy", "kind: Nope", "kind", None, "must be"),
        ("metadata: {name: p}", "metadata: {}", "metadata.name", None, "required"),
        ("  rules:", "  colour: red\n  rules:", "spec.colour", None, "unknown field"),
        ('== "JP"', "== ", "spec.rules[0].require", (1, 19), "invalid CEL"),
        ("cluster.country", "cluster.contry", "spec.rules[0].require", (1, 9), "no field"),
        (
            'workload.labels["data-class"]',
            "cluster.country",
            "spec.match",
            (1, 1),
            "not available",
        ),
        ("    - require:", "    - prefer:", "", None, ""),
    ],
)
def test_bad_placement_policy_names_document_field_and_position(
    old: str, new: str, field: str, position: tuple[int, int] | None, words: str
) -> None:
    text = VALID.replace(old, new)
    if not field:
        assert parse_documents(text)
        return
    with pytest.raises(PolicyError) as caught:
        parse_documents(text)
    error = caught.value
    assert error.field == field
    assert words in error.message
    assert error.document in ("PlacementPolicy/p", "document 1", "Nope/p")
    if position:
        assert (error.line, error.column) == position


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("rules: [{prefer: 'true', weight: 0}]", "spec.rules[0].weight"),
        ("rules: [{require: 'true', weight: 5}]", "spec.rules[0].weight"),
        ("rules: [{require: 'true', prefer: 'true'}]", "spec.rules[0].require"),
        ("rules: []", "spec.rules"),
        ("mode: sometimes\n  rules: [{require: 'true'}]", "spec.mode"),
    ],
)
def test_bad_rules_are_refused(spec: str, field: str) -> None:
    text = f"apiVersion: placer/v1\nkind: PlacementPolicy\nmetadata: {{name: p}}\nspec:\n  {spec}\n"
    with pytest.raises(PolicyError) as caught:
        parse_documents(text)
    assert caught.value.field == field


def test_budget_needs_a_limit_and_a_valid_amount() -> None:
    base = (
        "apiVersion: placer/v1\nkind: BudgetPolicy\nmetadata: {name: b}\nspec:\n  currency: USD\n"
    )
    with pytest.raises(PolicyError, match="monthly"):
        parse_documents(base)
    with pytest.raises(PolicyError) as caught:
        parse_documents(base + "  monthly: lots\n")
    assert caught.value.field == "spec.monthly"


def test_exception_needs_an_expiry_and_a_target() -> None:
    base = (
        "apiVersion: placer/v1\nkind: PolicyException\nmetadata: {name: e}\nspec:\n"
        "  policy: p\n  reason: r\n  ticket: T-1\n  approver: alice\n"
    )
    with pytest.raises(PolicyError) as caught:
        parse_documents(base + "  workload: web\n")
    assert caught.value.field == "spec.expires"
    with pytest.raises(PolicyError) as caught:
        parse_documents(base + "  expires: 2026-01-01T00:00:00Z\n")
    assert caught.value.field == "spec.workload"


def test_invalid_yaml_reports_its_line() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_documents("apiVersion: placer/v1\nkind: [\n")
    assert caught.value.line is not None


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(PolicyError, match="duplicate"):
        parse_documents(VALID + "---\n" + VALID)
