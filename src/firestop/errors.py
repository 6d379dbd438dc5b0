"""Domain errors, rendered as RFC 9457 problem documents by the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError


def loc_path(parts: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "systems", 2, "slug")`` → ``body.systems[2].slug``: a place a person can find."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


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


def validation_errors(exc: ValidationError, *, prefix: str = "") -> list[FieldError]:
    """Turn pydantic's errors into ``loc: msg`` pairs a person can act on."""
    found = []
    for err in exc.errors():
        loc = loc_path(tuple(err["loc"]))
        if prefix:
            loc = f"{prefix}.{loc}" if loc else prefix
        msg = err["msg"].removeprefix("Value error, ")
        found.append(FieldError(loc or "(top level)", msg))
    return found
