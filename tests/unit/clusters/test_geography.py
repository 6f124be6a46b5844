import pytest

from app.clusters.geography import (
    InvalidGroupError,
    UnknownCountryError,
    builtin_groups,
    jurisdictions_for,
    normalize_country,
    validate_group,
)

# The 27 member states since 1 February 2020.
EU_MEMBER_STATES = {
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
}


@pytest.mark.parametrize(("given", "code"), [("JP", "JP"), ("jp", "JP"), ("De", "DE")])
def test_country_codes_are_normalized_to_upper_case(given: str, code: str) -> None:
    assert normalize_country(given) == code


@pytest.mark.parametrize("value", ["XX", "EU", "UK", "JPN", "J", "", " JP", "J1", 81])
def test_unknown_country_is_refused_naming_the_value(value: object) -> None:
    with pytest.raises(UnknownCountryError) as caught:
        normalize_country(value)  # type: ignore[arg-type]

    assert caught.value.value == value
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    ("country", "jurisdictions"),
    [
        ("DE", ("DE", "EEA", "EU")),
        ("gr", ("EEA", "EU", "GR")),
        ("NO", ("EEA", "NO")),
        ("LI", ("EEA", "LI")),
        ("IS", ("EEA", "IS")),
        ("RE", ("EEA", "EU", "RE")),
        ("JP", ("JP",)),
        ("GB", ("GB",)),
        ("CH", ("CH",)),
        ("GL", ("GL",)),
        ("SJ", ("SJ",)),
    ],
)
def test_jurisdictions_are_the_country_and_its_groups(
    country: str, jurisdictions: tuple[str, ...]
) -> None:
    assert jurisdictions_for(country) == jurisdictions


def test_shipped_groups_are_the_eu_27_with_their_territories_and_the_eea() -> None:
    groups = builtin_groups()
    territories = {"GF", "GP", "MQ", "RE", "YT", "MF", "AX"}

    assert set(groups) == {"EU", "EEA"}
    assert groups["EU"] == EU_MEMBER_STATES | territories
    assert len(EU_MEMBER_STATES) == 27
    assert groups["EEA"] == groups["EU"] | {"IS", "LI", "NO"}


def test_admin_groups_add_to_the_jurisdictions() -> None:
    extra = {"apac-dc": ["jp", "SG"], "NORDICS": frozenset({"NO", "SE", "DK", "FI", "IS"})}

    assert jurisdictions_for("JP", extra) == ("APAC-DC", "JP")
    assert jurisdictions_for("SE", extra) == ("EEA", "EU", "NORDICS", "SE")
    assert jurisdictions_for("US", extra) == ("US",)


def test_valid_group_is_normalized() -> None:
    assert validate_group("apac-dc", ["jp", "SG", "JP"]) == ("APAC-DC", frozenset({"JP", "SG"}))


@pytest.mark.parametrize(
    ("name", "members", "fragment"),
    [
        ("JP", ["JP"], "country code"),
        ("eu", ["FR"], "built-in"),
        ("EEA", ["FR"], "built-in"),
        ("A", ["FR"], "2-63"),
        ("-X", ["FR"], "2-63"),
        ("MY GROUP", ["FR"], "2-63"),
        ("APAC", ["JP", "XX"], "'XX'"),
        ("APAC", "JP", "list"),
    ],
)
def test_bad_group_is_refused_naming_it(name: str, members: list[str], fragment: str) -> None:
    with pytest.raises(InvalidGroupError) as caught:
        validate_group(name, members)

    assert fragment in str(caught.value)


def test_bad_admin_group_is_refused_when_used() -> None:
    with pytest.raises(InvalidGroupError):
        jurisdictions_for("JP", {"JP": ["JP"]})
