"""Users, tokens and the caller's own identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from firestop.access import service
from firestop.access.schemas import Me, TokenCreated, TokenIn, TokenOut, UserIn, UserOut
from firestop.auth import Admin, Principal, current_principal
from firestop.deps import DB, RowId

router = APIRouter(prefix="/api/v1", tags=["access"])


@router.get("/me", response_model=Me)
async def me(principal: Annotated[Principal, Depends(current_principal)]) -> Me:
    return Me(name=principal.name, role=principal.role, kind=principal.kind)


@router.get("/users", response_model=list[UserOut])
def list_users(db: DB, _: Admin) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in service.list_users(db)]


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserIn, db: DB, _: Admin) -> UserOut:
    user = service.create_user(
        db,
        username=body.username,
        password=body.password,
        role=body.role,
        display_name=body.display_name,
        email=body.email,
    )
    db.commit()
    return UserOut.model_validate(user)


@router.post("/users/{username}/disable", response_model=UserOut)
def disable_user(username: str, db: DB, _: Admin) -> UserOut:
    user = service.set_user_active(db, username=username, active=False)
    db.commit()
    return UserOut.model_validate(user)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(db: DB, _: Admin) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in service.list_tokens(db)]


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenIn, db: DB, principal: Admin) -> TokenCreated:
    token, clear = service.create_token(
        db, name=body.name, role=body.role, created_by=principal.actor
    )
    db.commit()
    return TokenCreated.model_validate(
        {**TokenOut.model_validate(token).model_dump(), "token": clear}
    )


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut)
def revoke_token(token_id: RowId, db: DB, _: Admin) -> TokenOut:
    token = service.revoke_token(db, token_id=token_id)
    db.commit()
    return TokenOut.model_validate(token)
