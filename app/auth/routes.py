"""``/v1/tokens``: API tokens, managed by admins."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from app.api.dependencies import Session, authorize
from app.api.pagination import DEFAULT_PAGE_SIZE, Cursor, PageSize
from app.auth.principal import Principal
from app.auth.roles import ADMIN_ONLY
from app.auth.schemas import TokenCreate, TokenCreated, TokenPage, TokenRead
from app.auth.service import TokenService
from app.errors import NotFound, problem_responses

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])
Admin = Annotated[Principal, Depends(authorize(*ADMIN_ONLY))]
TokenId = Annotated[uuid.UUID, Path(description="The token's id.")]


@router.post("", status_code=201)
async def create_token(body: TokenCreate, session: Session, principal: Admin) -> TokenCreated:
    """Issue a token with one role. The secret is in this answer only."""
    return await TokenService(session).create(body, principal)


@router.get("")
async def list_tokens(
    session: Session, _: Admin, cursor: Cursor = None, limit: PageSize = DEFAULT_PAGE_SIZE
) -> TokenPage:
    """List tokens (never their secrets)."""
    return await TokenService(session).list_page(cursor=cursor, limit=limit)


@router.get("/{token_id}", responses=problem_responses(NotFound))
async def get_token(token_id: TokenId, session: Session, _: Admin) -> TokenRead:
    """Read one token's metadata."""
    return await TokenService(session).get(token_id)


@router.delete("/{token_id}", responses=problem_responses(NotFound))
async def revoke_token(token_id: TokenId, session: Session, principal: Admin) -> TokenRead:
    """Revoke a token: refused at once by the process that answers, within 5 s by the others."""
    return await TokenService(session).revoke(token_id, principal)
