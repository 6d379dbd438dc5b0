"""Domain errors, rendered as RFC 9457 problem documents by the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    """One problem with one place in the input: ``loc`` names the field, ``msg`` the problem."""

    loc: str
    msg: str

    def as_dict(self) -> dict[str, str]:
        return {"loc": self.loc, "msg": self.msg}


@dataclass
class FirestopError(Exception):
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    status: int = 400
    title: str = "Bad request"
    type_slug: str = "bad-request"

    def __str__(self) -> str:
        return self.detail

    def extensions(self) -> dict[str, Any]:
        return {"errors": [e.as_dict() for e in self.errors]} if self.errors else {}


def invalid(detail: str, errors: list[FieldError] | None = None) -> FirestopError:
    return FirestopError(detail, errors or [], 422, "Invalid input", "invalid-input")


def not_found(detail: str) -> FirestopError:
    return FirestopError(detail, [], 404, "Not found", "not-found")


def conflict(detail: str) -> FirestopError:
    return FirestopError(detail, [], 409, "Conflict", "conflict")


def forbidden(detail: str) -> FirestopError:
    return FirestopError(detail, [], 403, "Forbidden", "forbidden")
