"""Actions on an incident, posted from its page. Each calls the incidents service, commits,
and sends the browser back to the incident with a fixed notice (post/redirect/get)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from firestop.auth import ClaimWriter, IncidentWriter
from firestop.deps import DB, CurrentPolicy, RowId
from firestop.errors import FieldError, invalid
from firestop.incidents import claims, people
from firestop.incidents import service as incidents
from firestop.incidents import severity as incident_severity
from firestop.incidents import status as incident_status
from firestop.incidents.models import ClaimKind, ClaimStatus, IncidentStatus, ParticipantRole
from firestop.incidents.schemas import HarmIn
from firestop.policy.schemas import Sev
from firestop.web.facts import facts_patch

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]  # as the API's bounds
Name = Annotated[str, Form(max_length=200)]


async def _fields(request: Request) -> FormData:
    """The posted form, for forms whose field names come from the policy (one per factor).
    Its size was bounded by :class:`~firestop.web.forms.FormSizeLimit`."""
    return await request.form()


Fields = Annotated[FormData, Depends(_fields)]


def _back(key: str, done: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/incidents/{key}?done={done}{anchor}", status_code=303)


_TEXT_MAX = 4000


def _bounded(field: str, value: str) -> str:
    if len(value) > _TEXT_MAX:
        raise invalid("a field is too long", [FieldError(field, f"at most {_TEXT_MAX} characters")])
    return value


def _prefixed(form: FormData, prefix: str) -> dict[str, str]:
    """``{name: value}`` for every text field called ``<prefix><name>``."""
    return {
        field.removeprefix(prefix): _bounded(field, value)
        for field, value in form.multi_items()
        if field.startswith(prefix) and isinstance(value, str)
    }


def _field(form: FormData, name: str) -> str:
    """One text field of a form read whole; '' when it is absent."""
    value = form.get(name)
    return _bounded(name, value) if isinstance(value, str) else ""


@router.post("/incidents/{key}/facts")
def edit_facts(
    key: str, db: DB, policy: CurrentPolicy, principal: IncidentWriter, form: Fields
) -> RedirectResponse:
    """The service writes one timeline event for each fact that changed."""
    patch = facts_patch(db, policy=policy, key=key, form=form)
    incident = incidents.update_incident(
        db, policy=policy, key=key, actor=principal.actor, patch=patch
    )
    db.commit()
    return _back(incident.key, "facts", "#facts")


@router.post("/incidents/{key}/status")
def change_status(
    key: str,
    db: DB,
    principal: IncidentWriter,
    status: Annotated[IncidentStatus, Form()],
    reason: Text = "",
    outcome: Annotated[str, Form(max_length=64)] = "",
) -> RedirectResponse:
    incident = incident_status.change_status(
        db,
        key=key,
        actor=principal.actor,
        status=status,
        reason=reason,
        outcome=outcome or None,
    )
    db.commit()
    return _back(incident.key, "status")


@router.post("/incidents/{key}/severity")
def set_severity_factors(
    key: str, db: DB, policy: CurrentPolicy, principal: IncidentWriter, form: Fields
) -> RedirectResponse:
    """Every factor of the rubric is on the form; an empty choice removes the factor."""
    chosen = _prefixed(form, "factor.")
    factors: dict[str, str | None] = {
        f.id: chosen.get(f.id) or None for f in policy.severity.factors if f.id in chosen
    }
    note = _field(form, "note").strip()
    incident = incident_severity.set_severity_factors(
        db, policy=policy, key=key, actor=principal.actor, factors=factors, note=note or None
    )
    db.commit()
    return _back(incident.key, "severity", "#severity")


@router.post("/incidents/{key}/severity/override")
def override_severity(
    key: str,
    db: DB,
    principal: IncidentWriter,
    reason: Text = "",
    level: Annotated[Sev | None, Form()] = None,
) -> RedirectResponse:
    incident = incident_severity.override_severity(
        db, key=key, actor=principal.actor, level=level, reason=reason
    )
    db.commit()
    return _back(incident.key, "override", "#severity")


@router.post("/incidents/{key}/harm")
def set_harm(
    key: str, db: DB, policy: CurrentPolicy, principal: IncidentWriter, form: Fields
) -> RedirectResponse:
    levels = _prefixed(form, "harm.")
    notes = _prefixed(form, "note.")
    harm = {
        dim: HarmIn(level=level, note=notes.get(dim, "").strip())
        for dim, level in levels.items()
        if level
    }
    incident = incidents.set_harm(db, policy=policy, key=key, actor=principal.actor, harm=harm)
    db.commit()
    return _back(incident.key, "harm", "#harm")


@router.post("/incidents/{key}/claims")
def add_claim(
    key: str,
    db: DB,
    policy: CurrentPolicy,
    principal: ClaimWriter,
    statement: Text = "",
    kind: Annotated[ClaimKind, Form()] = ClaimKind.finding,
    cause_candidate: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    claim = claims.add_claim(
        db,
        policy=policy,
        key=key,
        actor=principal.actor,
        statement=statement,
        kind=kind,
        cause_candidate=cause_candidate or None,
    )
    db.commit()
    return _back(key.upper(), "claim", f"#claim-{claim.id}")


@router.post("/incidents/{key}/claims/{claim_id}")
def update_claim(
    key: str,
    claim_id: RowId,
    db: DB,
    principal: ClaimWriter,
    status: Annotated[ClaimStatus | None, Form()] = None,
    evidence_ref: Annotated[str, Form(max_length=2000)] = "",
    evidence_note: Text = "",
    confirmed_by: Name = "",
    reason: Text = "",
) -> RedirectResponse:
    """Add evidence, change the status, or both: the evidence first, so that one step can
    attach the evidence a confirmation needs."""
    if not evidence_ref.strip() and status is None:
        raise invalid(
            "nothing to change",
            [FieldError("status", "choose a new status, add evidence, or both")],
        )
    if evidence_ref.strip():
        claims.add_evidence(
            db,
            key=key,
            claim_id=claim_id,
            actor=principal.actor,
            ref=evidence_ref,
            note=evidence_note,
        )
    if status is not None:
        default_confirmer = principal.name if principal.kind == "user" else None
        claims.change_claim_status(
            db,
            key=key,
            claim_id=claim_id,
            actor=principal.actor,
            status=status,
            reason=reason,
            confirmed_by=confirmed_by.strip() or default_confirmer,
        )
    db.commit()
    return _back(key.upper(), "claim_status", f"#claim-{claim_id}")


@router.post("/incidents/{key}/participants")
def add_participant(
    key: str,
    db: DB,
    principal: IncidentWriter,
    role: Annotated[ParticipantRole, Form()],
    username: Annotated[str, Form(max_length=64)] = "",
    person: Annotated[str, Form(max_length=100)] = "",
    display_name: Name = "",
) -> RedirectResponse:
    people.add_participant(
        db,
        key=key,
        actor=principal.actor,
        role=role,
        username=username or None,
        person=person or None,
        display_name=display_name or None,
    )
    db.commit()
    return _back(key.upper(), "participant", "#participants")


@router.post("/incidents/{key}/participants/{participant_id}/remove")
def remove_participant(
    key: str, participant_id: RowId, db: DB, principal: IncidentWriter, reason: Text = ""
) -> RedirectResponse:
    people.remove_participant(
        db, key=key, actor=principal.actor, participant_id=participant_id, reason=reason
    )
    db.commit()
    return _back(key.upper(), "participant_removed", "#participants")


@router.post("/incidents/{key}/external-refs")
def add_external_ref(
    key: str,
    db: DB,
    principal: IncidentWriter,
    system: Annotated[str, Form(max_length=100)] = "",
    ticket: Name = "",
    url: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """The service accepts only an http(s) URL, so the page can link to it."""
    people.add_external_ref(
        db, key=key, actor=principal.actor, system=system, ticket=ticket, url=url or None
    )
    db.commit()
    return _back(key.upper(), "external_ref", "#external-refs")


@router.post("/incidents/{key}/external-refs/{ref_id}/remove")
def remove_external_ref(
    key: str, ref_id: RowId, db: DB, principal: IncidentWriter
) -> RedirectResponse:
    people.remove_external_ref(db, key=key, actor=principal.actor, ref_id=ref_id)
    db.commit()
    return _back(key.upper(), "external_ref_removed", "#external-refs")
