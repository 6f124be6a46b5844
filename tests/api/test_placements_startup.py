"""``placer serve`` refuses a bad configuration before starting anything, in one paragraph."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app

BROKEN_POLICY = """\
apiVersion: placer/v1
kind: PlacementPolicy
metadata:
  name: stays-home
spec:
  mode: enforce
  rules:
    - name: in-japan
      require: cluster.country ==
"""


@pytest.fixture
def unreachable_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A database nobody listens on: reaching it would fail differently than a refusal."""
    monkeypatch.setenv("PLACER_DATABASE_URL", "postgresql://placer@127.0.0.1:9/absent")
    monkeypatch.setenv("PLACER_DATA_DIR", str(tmp_path / "data"))
    for name in ("PLACER_POLICIES_DIR", "PLACER_SECRET_KEY", "PLACER_ALLOWED_CLUSTER_NETWORKS"):
        monkeypatch.delenv(name, raising=False)


def _serve(env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["serve"], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stderr


@pytest.mark.usefixtures("unreachable_database")
def test_a_bad_policy_file_is_named_with_its_field_and_position(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "residency.yaml").write_text(BROKEN_POLICY)

    code, message = _serve({"PLACER_POLICIES_DIR": str(policies)})

    assert code == 2
    assert message.startswith("placer serve: not starting: invalid policy in ")
    assert "residency.yaml" in message
    assert "spec.rules[0].require" in message
    assert "line 1 column" in message
    assert message.count("\n") == 1
    assert "Traceback" not in message


@pytest.mark.usefixtures("unreachable_database")
def test_a_missing_policy_directory_is_refused(tmp_path: Path) -> None:
    code, message = _serve({"PLACER_POLICIES_DIR": str(tmp_path / "absent")})

    assert code == 2
    assert "does not exist; set PLACER_POLICIES_DIR" in message


@pytest.mark.usefixtures("unreachable_database")
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PLACER_DB_POOL_SIZE": "0"}, "PLACER_DB_POOL_SIZE: Input should be greater than 0"),
        ({"PLACER_SECRET_KEY": "not-a-key"}, "key 1 is not a Fernet key"),
        (
            {"PLACER_ALLOWED_CLUSTER_NETWORKS": "10.0.0.1/8"},
            "allowed cluster networks: entry 1 '10.0.0.1/8' is not a network",
        ),
        ({"PLACER_JURISDICTION_GROUPS": '{"EU": ["FR"]}'}, "jurisdiction group 'EU'"),
    ],
    ids=["setting", "secret-key", "networks", "jurisdiction-group"],
)
def test_other_start_up_settings_are_checked_before_serving(
    env: dict[str, str], expected: str
) -> None:
    code, message = _serve(env)

    assert code == 2
    assert expected in message
    assert "Traceback" not in message
