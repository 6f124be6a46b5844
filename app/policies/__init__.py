"""Placement and budget policies (§4): YAML documents, their CEL expressions, and evaluation.

The public surface is :func:`parse_documents` / :func:`load_directory` (text or files to
documents, with precise :class:`PolicyError`\\ s) and :class:`PolicySet` (compiled documents
that answer "does this rule allow this workload on this cluster?" for the scheduler).
"""

from app.policies.documents import (
    BudgetPolicy,
    Mode,
    PlacementPolicy,
    PolicyDocument,
    PolicyException,
    Rule,
    load_directory,
    parse_documents,
)
from app.policies.errors import PolicyError
from app.policies.evaluation import PolicySet, RuleVerdict

__all__ = [
    "BudgetPolicy",
    "Mode",
    "PlacementPolicy",
    "PolicyDocument",
    "PolicyError",
    "PolicyException",
    "PolicySet",
    "Rule",
    "RuleVerdict",
    "load_directory",
    "parse_documents",
]
