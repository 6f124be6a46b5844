"""Policy documents (§4): ``PlacementPolicy``, ``BudgetPolicy`` and ``PolicyException``.

Documents are Kubernetes-style YAML (``apiVersion: placer/v1``, ``kind``, ``metadata.name``,
``spec``); a file may hold several separated by ``---``. Parsing checks every field and
compiles every CEL expression once; any problem raises :class:`PolicyError` naming the
document, the field and, inside an expression, the line and column.

Example::

    >>> [policy] = parse_documents(open("policies/personal-data-stays-in-japan.yaml").read())
    >>> policy.rules[0].require.source
    'cluster.country == "JP"'
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from app.kubetypes.errors import KubeSyntaxError
from app.kubetypes.labels import LabelSelector
from app.policies.errors import PolicyError
from app.policies.expressions import Expression, compile_expression
from app.scheduling.types import MICROS

API_VERSION = "placer/v1"
DEFAULT_PREFER_WEIGHT = 10


class Mode(StrEnum):
    """``enforce`` blocks violating placements; ``audit`` only reports them."""

    ENFORCE = "enforce"
    AUDIT = "audit"


@dataclass(frozen=True, eq=False)
class Rule:
    """One ``require`` (hard filter) or ``prefer`` (score, 1-100 ``weight``) rule of a policy."""

    name: str
    require: Expression | None
    prefer: Expression | None
    message: str
    weight: int

    @property
    def expression(self) -> Expression:
        """The rule's CEL expression, whichever kind it is."""
        expression = self.require or self.prefer
        assert expression is not None  # noqa: S101 - the parser sets exactly one of them
        return expression


@dataclass(frozen=True, eq=False)
class PolicyDocument:
    """What every document has: its name, kind, version, mode and canonical YAML source.

    ``version`` is ``metadata.version`` when given, otherwise a digest of the source, so a
    decision can name exactly the policy text it was made under.
    """

    name: str
    kind: str
    version: str
    mode: Mode
    description: str
    source: str


@dataclass(frozen=True, eq=False)
class PlacementPolicy(PolicyDocument):
    """Rules for the workloads its ``match`` selects (all workloads when it has none)."""

    match: Expression | None
    rules: tuple[Rule, ...]


@dataclass(frozen=True, eq=False)
class BudgetPolicy(PolicyDocument):
    """Spend caps in micro-units: per team per month and/or per workload per hour.

    ``team`` limits it to one team (each team separately when empty); ``match`` further
    selects workloads.
    """

    team: str
    match: Expression | None
    currency: str
    monthly_limit: int | None
    workload_hourly_limit: int | None


@dataclass(frozen=True, eq=False)
class PolicyException(PolicyDocument):
    """Lets selected workloads break ``rules`` (all when empty) of ``policy`` until ``expires``."""

    policy: str
    rules: tuple[str, ...]
    namespace: str
    workload: str
    selector: LabelSelector | None
    reason: str
    ticket: str
    approver: str
    expires: datetime

    def covers(self, namespace: str, name: str, labels: Mapping[str, str], now: datetime) -> bool:
        """Whether it applies to this workload at ``now`` (expired exceptions never apply)."""
        if now >= self.expires:
            return False
        if self.namespace and self.namespace != namespace:
            return False
        if self.workload and self.workload != name:
            return False
        return self.selector is None or self.selector.matches(labels)


class _Fields:
    """Reads one mapping, naming the full path of any bad field."""

    def __init__(self, data: object, path: str, document: str) -> None:
        if not isinstance(data, Mapping):
            raise PolicyError("must be a mapping", document=document, field=path)
        self.data: Mapping[str, Any] = data
        self.path = path
        self.document = document

    def field(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, message: str) -> PolicyError:
        return PolicyError(message, document=self.document, field=self.field(name))

    def only(self, *names: str) -> None:
        unknown = sorted(set(self.data) - set(names))
        if unknown:
            raise self.error(unknown[0], f"unknown field; expected one of {', '.join(names)}")

    def string(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.error(name, "is required")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.error(name, "must be a non-empty string" if required else "must be a string")
        return value

    def sub(self, name: str) -> "_Fields":
        return _Fields(self.data.get(name) or {}, self.field(name), self.document)

    def expression(self, name: str, *, allow: tuple[str, ...]) -> Expression | None:
        if self.data.get(name) is None:
            return None
        try:
            return compile_expression(self.data[name], allow=allow)
        except PolicyError as exc:
            raise exc.located(document=self.document, field=self.field(name)) from exc

    def money(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.error(name, "must be an amount of money such as 2500 or '12.50'")
        try:
            amount = Decimal(str(value))
        except InvalidOperation as exc:
            raise self.error(name, f"{value!r} is not an amount of money") from exc
        if not amount.is_finite() or amount < 0:
            raise self.error(name, "must be a non-negative amount")
        return int(amount * MICROS)

    def mode(self) -> Mode:
        value = self.data.get("mode", Mode.ENFORCE.value)
        try:
            return Mode(value)
        except ValueError as exc:
            raise self.error("mode", "must be enforce or audit") from exc


def _timestamp(fields: _Fields, name: str) -> datetime:
    value = fields.data.get(name)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise fields.error(name, "must be an RFC 3339 time, e.g. 2026-12-31T00:00:00Z") from exc
    else:
        raise fields.error(name, "is required: an RFC 3339 time, e.g. 2026-12-31T00:00:00Z")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rules(spec: _Fields) -> tuple[Rule, ...]:
    raw = spec.data.get("rules")
    if not isinstance(raw, list) or not raw:
        raise spec.error("rules", "must be a non-empty list of require/prefer rules")
    rules: list[Rule] = []
    names: set[str] = set()
    for index, item in enumerate(raw):
        rule = _Fields(item, spec.field(f"rules[{index}]"), spec.document)
        rule.only("name", "require", "prefer", "message", "weight")
        if ("require" in rule.data) == ("prefer" in rule.data):
            raise rule.error("require", "a rule has exactly one of require or prefer")
        name = rule.string("name", default=f"rule-{index}")
        if name in names:
            raise rule.error("name", f"duplicate rule name {name!r}")
        names.add(name)
        weight = rule.data.get("weight", DEFAULT_PREFER_WEIGHT)
        if "require" in rule.data and "weight" in rule.data:
            raise rule.error("weight", "only prefer rules have a weight")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
            raise rule.error("weight", "must be an integer from 1 to 100")
        require = rule.expression("require", allow=("workload", "cluster"))
        prefer = rule.expression("prefer", allow=("workload", "cluster"))
        expression = require or prefer
        assert expression is not None  # noqa: S101 - checked above that one is present
        message = rule.string("message", default=f"{expression.source} is false")
        rules.append(Rule(name, require, prefer, message, weight))
    return tuple(rules)


def _selector(fields: _Fields, name: str) -> LabelSelector | None:
    value = fields.data.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise fields.error(name, "must be a label selector (matchLabels / matchExpressions)")
    try:
        return LabelSelector.from_spec(value)
    except KubeSyntaxError as exc:
        raise fields.error(f"{name}.{exc.field}" if exc.field else name, exc.message) from exc


def _document(raw: object, index: int) -> PolicyDocument:
    label = f"document {index + 1}"
    top = _Fields(raw, "", label)
    metadata = top.sub("metadata")
    name = metadata.string("name", required=True)
    document = f"{top.data.get('kind', 'document')}/{name}"
    top = _Fields(raw, "", document)
    top.only("apiVersion", "kind", "metadata", "spec")
    if top.data.get("apiVersion") != API_VERSION:
        raise top.error("apiVersion", f"must be {API_VERSION}")
    metadata = top.sub("metadata")
    metadata.only("name", "version", "annotations", "labels")
    source = yaml.safe_dump(dict(raw), sort_keys=True)  # type: ignore[call-overload]
    version = str(metadata.data.get("version") or hashlib.sha256(source.encode()).hexdigest()[:12])
    spec = top.sub("spec")
    kind = top.data.get("kind")
    common: dict[str, Any] = {"name": name, "kind": kind, "version": version, "source": source}
    if kind == "PlacementPolicy":
        spec.only("description", "mode", "match", "rules")
        return PlacementPolicy(
            **common,
            mode=spec.mode(),
            description=spec.string("description"),
            match=spec.expression("match", allow=("workload",)),
            rules=_rules(spec),
        )
    if kind == "BudgetPolicy":
        spec.only("description", "mode", "team", "match", "currency", "monthly", "workloadHourly")
        budget = BudgetPolicy(
            **common,
            mode=spec.mode(),
            description=spec.string("description"),
            team=spec.string("team"),
            match=spec.expression("match", allow=("workload",)),
            currency=spec.string("currency", required=True),
            monthly_limit=spec.money("monthly"),
            workload_hourly_limit=spec.money("workloadHourly"),
        )
        if budget.monthly_limit is None and budget.workload_hourly_limit is None:
            raise spec.error("monthly", "a budget needs monthly and/or workloadHourly")
        return budget
    if kind == "PolicyException":
        spec.only(
            "description", "policy", "rules", "namespace", "workload", "selector",
            "reason", "ticket", "approver", "expires",
        )  # fmt: skip
        rules = spec.data.get("rules") or []
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            raise spec.error("rules", "must be a list of rule names")
        exception = PolicyException(
            **common,
            mode=Mode.ENFORCE,
            description=spec.string("description"),
            policy=spec.string("policy", required=True),
            rules=tuple(rules),
            namespace=spec.string("namespace"),
            workload=spec.string("workload"),
            selector=_selector(spec, "selector"),
            reason=spec.string("reason", required=True),
            ticket=spec.string("ticket", required=True),
            approver=spec.string("approver", required=True),
            expires=_timestamp(spec, "expires"),
        )
        if not (exception.workload or exception.selector):
            raise spec.error("workload", "an exception names a workload or a selector")
        return exception
    raise top.error("kind", "must be PlacementPolicy, BudgetPolicy or PolicyException")


def parse_documents(text: str) -> list[PolicyDocument]:
    """Parse one or more YAML documents; raises :class:`PolicyError` on the first problem."""
    try:
        raws = [raw for raw in yaml.safe_load_all(text) if raw is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PolicyError(
            f"invalid YAML: {getattr(exc, 'problem', None) or exc}",
            line=None if mark is None else mark.line + 1,
            column=None if mark is None else mark.column + 1,
        ) from exc
    documents = [_document(raw, index) for index, raw in enumerate(raws)]
    seen: set[tuple[str, str]] = set()
    for document in documents:
        if (document.kind, document.name) in seen:
            raise PolicyError("duplicate name", document=f"{document.kind}/{document.name}")
        seen.add((document.kind, document.name))
    return documents


def load_directory(directory: Path) -> list[PolicyDocument]:
    """Parse every ``*.yaml`` file in ``directory`` (sorted by name); errors name the file."""
    documents: list[PolicyDocument] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            documents.extend(parse_documents(path.read_text(encoding="utf-8")))
        except PolicyError as exc:
            raise exc.located(document=f"{path.name}: {exc.document}".rstrip(": ")) from exc
    return documents
