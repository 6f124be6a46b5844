"""The five roles of PRODUCT.md §1; a token carries exactly one."""

from enum import StrEnum


class Role(StrEnum):
    """What a token's holder may do."""

    ADMIN = "admin"
    OPERATOR = "operator"
    FINANCE = "finance"
    COMPLIANCE = "compliance"
    VIEWER = "viewer"


EVERY_ROLE: tuple[Role, ...] = tuple(Role)
ADMIN_ONLY: tuple[Role, ...] = (Role.ADMIN,)
AUDIT_READERS: tuple[Role, ...] = (Role.ADMIN, Role.COMPLIANCE)
