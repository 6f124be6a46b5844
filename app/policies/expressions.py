"""CEL expressions compiled once, with the fields they read and memoized results.

An expression is compiled by the ``common-expression-language`` package (module ``cel``).
Before compiling, the source is scanned for the ``workload`` and ``cluster`` fields it reads;
the result of an evaluation depends only on those fields' values, so it is memoized on them.
A rule such as ``cluster.country == "JP"`` is evaluated once per distinct country, not once
per cluster and decision. When the scan cannot tell which fields are read (``cluster`` used
whole), every field counts, which is always correct, only slower.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cel

from app.policies.errors import PolicyError
from app.policies.variables import (
    CLUSTER_FIELDS,
    WORKLOAD_FIELDS,
    Facts,
    cluster_facts,
    workload_facts,
)
from app.scheduling.types import ClusterSnapshot, WorkloadSpec

VARIABLES: Mapping[str, Mapping[str, object]] = {
    "workload": WORKLOAD_FIELDS,
    "cluster": CLUSTER_FIELDS,
}
_MEMO_LIMIT = 100_000
_MISSING = object()
_STRING = re.compile(
    r"""(?s)[rR]?(\"\"\".*?\"\"\"|'''.*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')"""
)
_VARIABLE = re.compile(r"(?<![.\w])(workload|cluster)\b")
_FIELD = re.compile(r"\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*(['\"])([A-Za-z_]\w*)\2\s*\])")
_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*?)(?:\n|$)")


class EvaluationError(Exception):
    """An expression could not be evaluated for some input (missing key, type error...).

    ``missing_key`` tells a map key or field that is absent (``labels["x"]`` without ``x``)
    from other failures.
    """

    def __init__(self, message: str, *, missing_key: bool = False) -> None:
        super().__init__(message)
        self.missing_key = missing_key


@dataclass(frozen=True)
class _Failure:
    """A memoized evaluation failure: what an :class:`EvaluationError` is raised from."""

    message: str
    missing_key: bool = False


def _blank_strings(source: str) -> str:
    return _STRING.sub(lambda m: " " * len(m.group(0)), source)


def _line_column(source: str, offset: int) -> tuple[int, int]:
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1) + 1


def _fields_read(source: str) -> dict[str, tuple[str, ...] | None]:
    """Map each variable to the fields ``source`` reads (``None``: possibly all of them)."""
    scanned = _blank_strings(source)
    reads: dict[str, set[str] | None] = {}
    for match in _VARIABLE.finditer(scanned):
        variable = match.group(1)
        access = _FIELD.match(scanned, match.end())
        field = None if access is None else access.group(1) or access.group(3)
        known = VARIABLES[variable]
        if field is None:
            reads[variable] = None
            continue
        if field not in known:
            line, column = _line_column(
                source, access.start(1) if access and access.group(1) else match.end()
            )
            raise PolicyError(
                f"{variable} has no field {field!r}; its fields are {', '.join(known)}",
                line=line,
                column=column,
            )
        current = reads.setdefault(variable, set())
        if current is not None:
            current.add(field)
    return {v: None if f is None else tuple(sorted(f)) for v, f in reads.items()}


@dataclass(frozen=True, eq=False)
class Expression:
    """A compiled CEL expression over ``workload`` and ``cluster``.

    ``workload_fields``/``cluster_fields`` list what it reads (empty: the variable is not
    used; ``None``: it may read any field).
    """

    source: str
    program: Any
    workload_fields: tuple[str, ...] | None
    cluster_fields: tuple[str, ...] | None

    @property
    def reads_cluster(self) -> bool:
        """Whether the result can differ between clusters."""
        return self.cluster_fields is None or bool(self.cluster_fields)

    def evaluate(self, workload: WorkloadSpec, cluster: ClusterSnapshot | None = None) -> object:
        """Return the expression's value (memoized), or raise :class:`EvaluationError`."""
        wfacts = workload_facts(workload)
        return self.evaluate_facts(
            wfacts.key(self.workload_fields),
            wfacts,
            cluster_facts(cluster) if cluster is not None and self.reads_cluster else None,
        )

    def evaluate_facts(
        self, workload_key: tuple[object, ...], wfacts: Facts, cfacts: Facts | None
    ) -> object:
        """Like :meth:`evaluate`, with the workload's memo key already computed."""
        key = (workload_key, None if cfacts is None else cfacts.key(self.cluster_fields))
        memo = self._memo()
        outcome = memo.get(key, _MISSING)
        if outcome is _MISSING:
            outcome = self._run(wfacts, cfacts)
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[key] = outcome
        if isinstance(outcome, _Failure):
            # A new exception each time: re-raising a memoized one would chain every caller's
            # frames onto its traceback and keep them, and all they reference, alive.
            raise EvaluationError(outcome.message, missing_key=outcome.missing_key)
        return outcome

    def _memo(self) -> dict[object, object]:
        memo: dict[object, object] | None = self.__dict__.get("_results")
        if memo is None:
            memo = {}
            self.__dict__["_results"] = memo
        return memo

    def _run(self, wfacts: Facts, cfacts: Facts | None) -> object:
        context: dict[str, object] = {}
        if self.workload_fields is None or self.workload_fields:
            context["workload"] = wfacts.values(self.workload_fields)
        if cfacts is not None:
            context["cluster"] = cfacts.values(self.cluster_fields)
        elif self.reads_cluster:
            return _Failure("cluster is not available here")
        try:
            return self.program.execute(context)
        except KeyError as exc:
            return _Failure(f"no such key: {exc.args[0] if exc.args else exc}", missing_key=True)
        except Exception as exc:  # any CEL runtime failure must fail closed, never crash
            return _Failure(f"{type(exc).__name__}: {_first_line(str(exc))}")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "evaluation failed"


def compile_expression(
    source: object, *, allow: tuple[str, ...] = ("workload", "cluster")
) -> Expression:
    """Compile ``source``; errors carry the line and column inside the expression.

    ``allow`` names the variables the expression may use (a ``match`` sees only ``workload``).
    """
    if not isinstance(source, str) or not source.strip():
        raise PolicyError("must be a non-empty CEL expression (a string)")
    reads = _fields_read(source)
    for variable in reads:
        if variable not in allow:
            offset = _VARIABLE.search(_blank_strings(source))
            line, column = _line_column(source, offset.start() if offset else 0)
            raise PolicyError(
                f"{variable} is not available here; use only {' and '.join(allow)}",
                line=line,
                column=column,
            )
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError, TypeError) as exc:
        text = str(exc)
        found = _POSITION.search(text)
        if found:
            raise PolicyError(
                f"invalid CEL: {found.group(3)}",
                line=int(found.group(1)),
                column=int(found.group(2)),
            ) from exc
        raise PolicyError(f"invalid CEL: {_first_line(text)}") from exc
    return Expression(
        source=source,
        program=program,
        workload_fields=reads.get("workload", ()),
        cluster_fields=reads.get("cluster", ()),
    )
