import pytest

from app.kubetypes import (
    LabelError,
    LabelSelector,
    Operator,
    Requirement,
    parse_label_selector,
    validate_labels,
)

LABELS = {"env": "prod", "tier": "web", "version": "4", "team": "", "example.com/owner": "ops"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("env=prod", True),
        ("env==prod", True),
        ("env!=prod", False),
        ("env!=dev", True),
        ("missing!=x", True),
        ("tier in (web,api)", True),
        ("tier notin (web,api)", False),
        ("missing notin (a)", True),
        ("missing in (a)", False),
        ("env", True),
        ("!env", False),
        ("!missing", True),
        ("version>3", True),
        ("version<3", False),
        ("tier>3", False),
        ("team=", True),
        ("example.com/owner=ops", True),
        ("env=prod, tier in (api, web) ,!legacy", True),
        ("env=prod,tier=api", False),
    ],
)
def test_string_selectors_follow_kubernetes_semantics(selector: str, matches: bool) -> None:
    assert parse_label_selector(selector).matches(LABELS) is matches


@pytest.mark.parametrize(
    "text",
    ["=x", "a in b", "a in (b", "a,,b", "a b", "9$=1", "a=b=c", "a>x", "-a=b", "a in ()x", "a=-b"],
)
def test_malformed_string_selectors_are_refused(text: str) -> None:
    with pytest.raises(LabelError):
        parse_label_selector(text)


def test_a_selector_prints_in_a_form_that_parses_back_to_itself() -> None:
    selector = parse_label_selector("tier in (web,api),env=prod,!legacy,version>3,x!=y,z")
    assert str(selector) == "tier in (api,web),env=prod,!legacy,version>3,x!=y,z"
    assert parse_label_selector(str(selector)) == selector


def test_structured_selectors_parse_to_the_same_requirements() -> None:
    selector = LabelSelector.from_spec(
        {
            "matchLabels": {"env": "prod"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}],
        }
    )
    assert selector == parse_label_selector("env=prod,tier in (api,web)")
    assert LabelSelector.from_spec(selector.to_spec()) == selector


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "Inn", "values": ["x"]}]},
            "matchExpressions[0].operator",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
            "matchExpressions[0].values",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            "matchExpressions[0].values",
        ),
        ({"matchExpressions": [{"operator": "Exists"}]}, "matchExpressions[0].key"),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "vals": []}]},
            "matchExpressions[0].vals",
        ),
        ({"matchLabels": {"env": 3}}, "matchLabels.env"),
        ({"matchLabels": {"bad key": "x"}}, "matchLabels.bad key"),
        ({"matchLabel": {}}, "matchLabel"),
    ],
)
def test_structured_selector_errors_name_the_field(spec: dict[str, object], field: str) -> None:
    with pytest.raises(LabelError) as caught:
        LabelSelector.from_spec(spec)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("labels", "field"),
    [
        ({"ok": "fine", "bad/": "x"}, "bad/"),
        ({"a" * 64: "x"}, "a" * 64),
        ({"k": "v" * 64}, "k"),
        ({"k": "-v"}, "k"),
        ({"UPPER.example.com/x": "v"}, "UPPER.example.com/x"),
    ],
)
def test_invalid_labels_name_the_offending_key(labels: dict[str, str], field: str) -> None:
    with pytest.raises(LabelError) as caught:
        validate_labels(labels)
    assert caught.value.field == field


def test_requirements_need_values_that_fit_their_operator() -> None:
    with pytest.raises(LabelError):
        Requirement("a", Operator.GT, ("x",))
    assert Requirement("a", Operator.IN, ("b", "a", "b")).values == ("a", "b")
