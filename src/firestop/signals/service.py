"""Intake of reports (D1) and the triage queue of signals (D4). Functions never commit.

Report text is hostile input. It is stored as given, except for the few code points that
storage cannot hold (NUL, lone surrogates), and only ever shown escaped. The title and summary
of a signal are derived from it with control and formatting characters taken out, so a
one-line view cannot be bent by line breaks, terminal escapes or bidirectional overrides.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from firestop.db import take_write_lock, utcnow
from firestop.errors import FieldError, conflict, invalid, not_found
from firestop.incidents import records
from firestop.incidents import service as incidents
from firestop.incidents.models import Incident, IncidentStatus
from firestop.incidents.schemas import SystemVersion
from firestop.inventory.models import System
from firestop.policy.schemas import Policy
from firestop.signals.models import Report, ReportChannel, Signal, SignalSource, SignalStatus
from firestop.signals.schemas import PublicStatus, ReportOut, ReportStatus, SignalDetail, SignalOut

REFERENCE_PREFIX = "R-"
REFERENCE_PATTERN = re.compile(r"R-[A-Z2-7]{16}")
TITLE_LENGTH = 120
SUMMARY_LENGTH = 1000

_PUBLIC_DESCRIPTIONS = {
    PublicStatus.received: "We have received your report; it is waiting to be looked at.",
    PublicStatus.under_review: "Your report is being reviewed.",
    PublicStatus.linked_to_incident: "Your report is part of an incident we are handling.",
    PublicStatus.closed: "We have finished handling your report. Thank you for telling us.",
}

# --- intake ---------------------------------------------------------------------------------


def new_reference() -> str:
    """``R-`` and 16 base32 characters: 80 random bits, not guessable or enumerable."""
    return REFERENCE_PREFIX + base64.b32encode(secrets.token_bytes(10)).decode()


def submit_report(
    db: Session,
    *,
    text: str,
    system: str | None = None,
    interaction_ref: str | None = None,
    contact: str | None = None,
    channel: ReportChannel | str = ReportChannel.api,
    submitted_by: str | None = None,
) -> Report:
    """Take a report from anyone and put its signal in the triage queue.

    An unknown ``system`` is kept as the reporter wrote it and left unlinked; the caller must
    not tell the reporter which happened.
    """
    if not text.strip():
        raise invalid("the report is empty", [FieldError("text", "describe what happened")])
    try:
        channel = ReportChannel(channel)
    except ValueError:
        known = ", ".join(c.value for c in ReportChannel)
        raise invalid(
            "unknown report channel", [FieldError("channel", f"use one of {known}")]
        ) from None
    text = storable(text)
    system_text = _optional(system)
    linked = (
        db.scalar(select(System).where(System.slug == system_text.strip())) if system_text else None
    )
    report = Report(
        reference=new_reference(),
        received_at=utcnow(),
        text=text,
        system_text=system_text,
        system=linked,
        interaction_ref=_optional(interaction_ref),
        contact=_optional(contact),
        channel=channel.value,
        submitted_by=submitted_by,
    )
    signal = Signal(
        source=SignalSource.report.value,
        system=linked,
        title=derive_title(text),
        summary=derive_summary(text),
        fingerprint=fingerprint(SignalSource.report, None, linked.slug if linked else None, text),
        status=SignalStatus.new.value,
        created_at=report.received_at,
        report=report,
    )
    db.add_all([report, signal])
    db.flush()
    return report


def report_status(db: Session, *, reference: str) -> ReportStatus:
    """The coarse status anyone with the reference may see."""
    row = None
    if REFERENCE_PATTERN.fullmatch(reference):
        row = db.execute(
            select(Report, Signal.status, Incident.status)
            .join(Signal, Signal.report_id == Report.id)
            .outerjoin(Incident, Incident.id == Signal.incident_id)
            .where(Report.reference == reference)
        ).first()
    if row is None:
        raise not_found("no report with this reference")
    report, signal_status, incident_status = row
    status = public_status(SignalStatus(signal_status), incident_status)
    return ReportStatus(
        reference=report.reference,
        received_at=report.received_at,
        status=status,
        description=_PUBLIC_DESCRIPTIONS[status],
    )


def public_status(signal_status: SignalStatus, incident_status: str | None) -> PublicStatus:
    """Map the internal state onto the four states a reporter sees.

    New signals are ``received``. An accepted signal is ``under_review`` while its incident
    is in triage (it may yet turn out not to be one), ``linked_to_incident`` while the
    incident is being handled, and ``closed`` once it is closed. Near misses and dismissed
    signals are ``closed``: the reporter is not told which.
    """
    if signal_status == SignalStatus.new:
        return PublicStatus.received
    if signal_status != SignalStatus.accepted or incident_status == IncidentStatus.closed:
        return PublicStatus.closed
    if incident_status == IncidentStatus.triage:
        return PublicStatus.under_review
    return PublicStatus.linked_to_incident


# --- deriving safe text ---------------------------------------------------------------------


def storable(value: str) -> str:
    """The text as given, minus what storage cannot hold: NUL and lone surrogates."""
    return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in value)


def _optional(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return storable(value)


def _visible(text: str, *, keep_newlines: bool) -> str:
    """Control and formatting characters (escapes, bidi overrides, zero-width) as spaces."""
    out = []
    for ch in text:
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def derive_title(text: str) -> str:
    flat = " ".join(_visible(text, keep_newlines=False).split())
    if len(flat) <= TITLE_LENGTH:
        return flat or "(no text)"
    return flat[: TITLE_LENGTH - 1].rstrip() + "…"


def derive_summary(text: str) -> str:
    lines = [" ".join(line.split()) for line in _visible(text, keep_newlines=True).split("\n")]
    summary = "\n".join(line for line in lines if line)
    return summary if len(summary) <= SUMMARY_LENGTH else summary[: SUMMARY_LENGTH - 1] + "…"


def fingerprint(
    source: SignalSource, detector_id: str | None, system: str | None, text: str
) -> str:
    """Equal for signals that say the same thing about the same system from the same source."""
    normalised = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    material = "\x1f".join([source.value, detector_id or "", system or "", normalised])
    return hashlib.sha256(material.encode("utf-8", "replace")).hexdigest()


# --- the triage queue -----------------------------------------------------------------------


def list_signals(
    db: Session,
    *,
    status: SignalStatus | None = None,
    system: str | None = None,
    source: SignalSource | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    incident: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Signal]:
    """Signals, newest first. ``status=near_miss`` is the near-miss log."""
    query = select(Signal).options(
        selectinload(Signal.system), selectinload(Signal.report), selectinload(Signal.incident)
    )
    if status is not None:
        query = query.where(Signal.status == status.value)
    if system is not None:
        query = query.join(System, System.id == Signal.system_id).where(System.slug == system)
    if source is not None:
        query = query.where(Signal.source == source.value)
    if since is not None:
        query = query.where(Signal.created_at >= since)
    if until is not None:
        query = query.where(Signal.created_at < until)
    if incident is not None:
        query = query.join(Incident, Incident.id == Signal.incident_id).where(
            Incident.key == incident.upper()
        )
    query = query.order_by(Signal.created_at.desc(), Signal.id.desc()).limit(limit).offset(offset)
    return list(db.scalars(query))


def get_signal(db: Session, signal_id: int) -> Signal:
    signal = db.get(Signal, signal_id)
    if signal is None:
        raise not_found(f"no signal {signal_id}")
    return signal


def _undecided(db: Session, signal_id: int) -> Signal:
    """The signal, row locked, provided it still waits for a decision."""
    take_write_lock(db)
    signal = db.scalar(
        select(Signal)
        .where(Signal.id == signal_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if signal is None:
        raise not_found(f"no signal {signal_id}")
    if signal.status != SignalStatus.new:
        raise conflict(
            f"signal {signal_id} was already decided ({signal.status} by {signal.decided_by}); "
            "only new signals can be decided"
        )
    return signal


def _decide(signal: Signal, status: SignalStatus, *, actor: str, reason: str | None) -> None:
    signal.status = status.value
    signal.decided_by = actor
    signal.decided_at = utcnow()
    signal.decision_reason = reason


def accept_signal(
    db: Session,
    *,
    policy: Policy,
    signal_id: int,
    actor: str,
    incident_key: str | None = None,
    title: str | None = None,
    categories: Sequence[str] = (),
    factors: Mapping[str, str] | None = None,
    note: str | None = None,
) -> Signal:
    """Accept the signal into an existing incident (``incident_key``) or a new one.

    A new incident takes the signal's title unless ``title`` is given, the signal's time as
    its detection time and the signal's system as an affected system. Either way the incident's
    timeline records the acceptance.
    """
    signal = _undecided(db, signal_id)
    note = (note or "").strip() or None
    if incident_key is not None:
        if title is not None or categories or factors:
            raise invalid(
                "accept into an existing incident or a new one, not both",
                [FieldError("incident", "leave out title, categories and factors")],
            )
        incident = records.locked(db, incident_key)
        if not incident.is_open:
            raise conflict(f"{incident.key} is closed; open a new incident instead")
    else:
        if not categories:
            raise invalid(
                "a new incident needs its categories",
                [FieldError("categories", "choose at least one category")],
            )
        incident = incidents.create_incident(
            db,
            policy=policy,
            actor=actor,
            title=title or signal.title,
            categories=categories,
            summary=signal.summary,
            detected_at=signal.created_at,
            systems=[SystemVersion(system=signal.system.slug)] if signal.system else [],
            factors=factors,
        )
    _decide(signal, SignalStatus.accepted, actor=actor, reason=note)
    signal.incident = incident
    db.flush()
    records.record_event(
        db,
        incident,
        actor=actor,
        kind="signal.accepted",
        entity_type="signal",
        entity_id=signal.id,
        after={"signal": signal.id, "source": signal.source, "title": signal.title},
        note=note,
    )
    return signal


def mark_near_miss(db: Session, *, signal_id: int, actor: str, reason: str) -> Signal:
    """Log the signal as a near miss: harm was possible and did not happen (trended later)."""
    reason = _reason(reason)
    signal = _undecided(db, signal_id)
    _decide(signal, SignalStatus.near_miss, actor=actor, reason=reason)
    db.flush()
    return signal


def dismiss_signal(db: Session, *, signal_id: int, actor: str, reason: str) -> Signal:
    """Decide that the signal needs no action; the reason is kept."""
    reason = _reason(reason)
    signal = _undecided(db, signal_id)
    _decide(signal, SignalStatus.dismissed, actor=actor, reason=reason)
    db.flush()
    return signal


def _reason(reason: str) -> str:
    stripped = reason.strip()
    if not stripped:
        raise invalid("a reason is required", [FieldError("reason", "must not be blank")])
    return stripped


# --- views ----------------------------------------------------------------------------------


def signal_view(signal: Signal) -> SignalOut:
    return SignalOut.model_validate(_signal_fields(signal))


def signal_detail(signal: Signal, *, with_contact: bool) -> SignalDetail:
    """The signal with its report; the reporter's contact only when ``with_contact``."""
    report = signal.report
    detail = (
        ReportOut(
            reference=report.reference,
            received_at=report.received_at,
            channel=report.channel,
            text=report.text,
            system_text=report.system_text,
            interaction_ref=report.interaction_ref,
            submitted_by=report.submitted_by,
            contact=report.contact if with_contact else None,
        )
        if report
        else None
    )
    return SignalDetail.model_validate({**_signal_fields(signal), "report_detail": detail})


def _signal_fields(signal: Signal) -> dict[str, object]:
    return {
        "id": signal.id,
        "source": SignalSource(signal.source),
        "detector_id": signal.detector_id,
        "system": signal.system.slug if signal.system else None,
        "title": signal.title,
        "summary": signal.summary,
        "category_hint": signal.category_hint,
        "severity_hint": signal.severity_hint,
        "fingerprint": signal.fingerprint,
        "status": SignalStatus(signal.status),
        "created_at": signal.created_at,
        "report": signal.report.reference if signal.report else None,
        "incident": signal.incident.key if signal.incident else None,
        "decided_by": signal.decided_by,
        "decided_at": signal.decided_at,
        "decision_reason": signal.decision_reason,
    }
