"""``/v1/price-books``: readable by every role, changed by admins."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import JSONResponse

from app.api.dependencies import Session, authorize
from app.api.pagination import DEFAULT_PAGE_SIZE, Cursor, PageSize
from app.auth.principal import Principal
from app.auth.roles import ADMIN_ONLY, EVERY_ROLE
from app.errors import Conflict, NotFound, problem_responses
from app.idempotency.service import Created, IdempotencyKey, run_idempotently
from app.pricebooks.schemas import (
    PriceBookCreate,
    PriceBookPage,
    PriceBookRead,
    PriceBookVersionCreate,
)
from app.pricebooks.service import PriceBookService

router = APIRouter(prefix="/v1/price-books", tags=["price books"])
Admin = Annotated[Principal, Depends(authorize(*ADMIN_ONLY))]
Reader = Annotated[Principal, Depends(authorize(*EVERY_ROLE))]
BookName = Annotated[str, Path(max_length=63, description="The price book's name.")]


@router.post(
    "",
    status_code=201,
    response_model=PriceBookRead,
    responses=problem_responses(Conflict),
)
async def create_price_book(
    body: PriceBookCreate,
    session: Session,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Create a price book with its first version."""

    async def create() -> Created:
        book = await PriceBookService(session).create(body, principal)
        return Created(
            201, book.model_dump(mode="json"), {"Location": f"/v1/price-books/{book.name}"}
        )

    return await run_idempotently(
        session,
        principal,
        route="POST /v1/price-books",
        key=idempotency_key,
        body=body,
        create=create,
    )


@router.post(
    "/{name}/versions",
    status_code=201,
    response_model=PriceBookRead,
    responses=problem_responses(NotFound),
)
async def add_price_book_version(
    name: BookName,
    body: PriceBookVersionCreate,
    session: Session,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Add a version taking effect at `effectiveFrom`: after every other one, not in the past."""

    async def create() -> Created:
        book = await PriceBookService(session).add_version(name, body, principal)
        return Created(201, book.model_dump(mode="json"))

    return await run_idempotently(
        session,
        principal,
        route=f"POST /v1/price-books/{name}/versions",
        key=idempotency_key,
        body=body,
        create=create,
    )


@router.get("")
async def list_price_books(
    session: Session, _: Reader, cursor: Cursor = None, limit: PageSize = DEFAULT_PAGE_SIZE
) -> PriceBookPage:
    """List price books by name, with their versions."""
    return await PriceBookService(session).list_page(cursor=cursor, limit=limit)


@router.get("/{name}", responses=problem_responses(NotFound))
async def get_price_book(name: BookName, session: Session, _: Reader) -> PriceBookRead:
    """Read a price book, its versions and the one in effect now."""
    return await PriceBookService(session).get(name)


@router.delete("/{name}", status_code=204, responses=problem_responses(NotFound, Conflict))
async def delete_price_book(name: BookName, session: Session, principal: Admin) -> Response:
    """Delete a price book no cluster uses."""
    await PriceBookService(session).delete(name, principal)
    return Response(status_code=204)
