"""The incident facts form (T1): the values it shows, and what it posts as an
:class:`~firestop.incidents.schemas.IncidentPatch`.

The form posts every fact back. Only the facts the person changed are patched, compared at
the precision the form shows them — times to the second in UTC, line breaks as browsers send
them, categories and tags as sets — so saving an untouched form changes nothing, and each real
change reaches the timeline once.

The form also carries a digest of the facts it showed. If someone else changed a fact in the
meantime, saving is refused rather than silently putting back the values the form still
holds. Other changes to the incident (claims, status, people) do not touch the digest.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from firestop.errors import FieldError, conflict, invalid, validation_errors
from firestop.incidents import records
from firestop.incidents.schemas import IncidentDetail, IncidentPatch
from firestop.incidents.views import incident_view
from firestop.policy.schemas import Policy

FACTS = (
    "title",
    "summary",
    "what_happened",
    "categories",
    "tags",
    "began_at",
    "detected_at",
    "affected_people",
    "affected_people_basis",
    "affected_decisions",
    "affected_decisions_basis",
    "continuing",
    "systems",
)
VERSION_FIELD = "facts_version"
_TIMES = ("began_at", "detected_at")
_COUNTS = ("affected_people", "affected_decisions")
# The fields of one row of the affected systems; each row posts all three.
_SYSTEM_ROW = ("system", "model_version", "application_version")
# Tags are scheme:value words; people separate them with spaces or commas.
_TAG_SEPARATORS = re.compile(r"[\s,]+")
STALE = (
    "someone else changed the facts after you opened the form; reload the page to see "
    "their changes, then make yours again"
)


def shown_time(value: datetime | None) -> str:
    """A time as a ``datetime-local`` field holds it: UTC, to the second, without a zone."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def version(detail: IncidentDetail) -> str:
    """A digest of the facts as the form shows them."""
    return _digest(_shown(detail))


def facts_patch(db: Session, *, policy: Policy, key: str, form: FormData) -> IncidentPatch:
    """The facts in ``form`` that differ from the incident's.

    The incident stays locked until the caller commits, so no other change slips in between
    this comparison and the update.
    """
    records.locked(db, key)
    current = _shown(incident_view(db, policy=policy, key=key))
    if _one(form, VERSION_FIELD) != _digest(current):
        raise conflict(STALE)
    errors: list[FieldError] = []
    posted = _posted(form, errors)
    if errors:
        raise invalid("some facts could not be read", errors)
    try:
        full = IncidentPatch.model_validate(posted)
    except ValidationError as exc:
        raise invalid("some facts are not valid", validation_errors(exc)) from exc
    wanted = _wanted(full)
    return IncidentPatch.model_validate(
        {name: getattr(full, name) for name in FACTS if wanted[name] != current[name]}
    )


def _shown(detail: IncidentDetail) -> dict[str, Any]:
    """The incident's facts at the form's precision, as plain JSON values."""
    facts = {name: getattr(detail, name) for name in FACTS}
    facts["categories"] = [c.id for c in detail.categories]
    facts["systems"] = [[s.system, s.model_version, s.application_version] for s in detail.systems]
    return {name: _plain(name, value) for name, value in facts.items()}


def _wanted(patch: IncidentPatch) -> dict[str, Any]:
    """The posted facts in the same shape as :func:`_shown`."""
    facts = {name: getattr(patch, name) for name in FACTS}
    facts["systems"] = [
        [s.system, s.model_version, s.application_version] for s in patch.systems or []
    ]
    return {name: _plain(name, value) for name, value in facts.items()}


def _plain(name: str, value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str):
        return _lines(value)
    if isinstance(value, datetime):
        return shown_time(value)
    if name in ("categories", "tags"):
        return sorted(set(value))
    return value


def _digest(shown: dict[str, Any]) -> str:
    encoded = json.dumps(shown, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


def _posted(form: FormData, errors: list[FieldError]) -> dict[str, Any]:
    categories = _all(form, "categories")
    if not categories:
        errors.append(FieldError("categories", "choose at least one category"))
    posted: dict[str, Any] = {
        "title": _one(form, "title"),
        "summary": _lines(_one(form, "summary")),
        "what_happened": _lines(_one(form, "what_happened")),
        "categories": categories,
        "tags": [tag for tag in _TAG_SEPARATORS.split(_one(form, "tags")) if tag],
        "continuing": _one(form, "continuing"),
        "systems": _systems(form, errors),
    }
    for name in _TIMES:
        posted[name] = _time(name, _one(form, name), errors)
    for name in _COUNTS:
        count = _one(form, name).strip()
        posted[name] = count or None
        # A basis without a count means nothing; the service refuses one.
        posted[f"{name}_basis"] = _one(form, f"{name}_basis") if count else None
    return posted


def _systems(form: FormData, errors: list[FieldError]) -> list[dict[str, str]]:
    """One row per system; a row without a system (the empty one, or one cleared) is skipped."""
    systems, models, applications = (_all(form, name) for name in _SYSTEM_ROW)
    if not len(systems) == len(models) == len(applications):
        errors.append(FieldError("systems", "each row needs a system and both versions"))
        return []
    return [
        {"system": s.strip(), "model_version": m.strip(), "application_version": a.strip()}
        for s, m, a in zip(systems, models, applications, strict=True)
        if s.strip()
    ]


def _time(name: str, value: str, errors: list[FieldError]) -> datetime | None:
    """A ``datetime-local`` value, read as UTC like every time on the pages; '' is unknown."""
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        errors.append(FieldError(name, "a date and time in UTC, such as 2026-03-01T14:05"))
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _lines(text: str) -> str:
    """Browsers send a textarea's line breaks as CRLF; the record keeps LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _one(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _all(form: FormData, name: str) -> list[str]:
    return [value for value in form.getlist(name) if isinstance(value, str)]
