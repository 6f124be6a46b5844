"""Shared pytest set-up: each fixture family lives in its own plugin module under tests/support."""

pytest_plugins: list[str] = ["tests.support.kube", "tests.support.db", "tests.support.api"]
