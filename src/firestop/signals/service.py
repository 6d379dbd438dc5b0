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
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, not_, or_, select
from sqlalchemy.orm import Session, selectinload

from firestop.db import take_write_lock, utcnow
from firestop.detect.models import FindingRow
from firestop.errors import FieldError, conflict, invalid, not_found
from firestop.incidents import records
from firestop.incidents import service as incidents
from firestop.incidents.models import Incident, IncidentStatus
from firestop.incidents.schemas import SystemVersion
from firestop.inventory.models import System
from firestop.ledger.models import Interaction
from firestop.policy.schemas import Policy
from firestop.signals.models import (
    Report,
    ReportChannel,
    Signal,
    SignalInteraction,
    SignalSource,
    SignalStatus,
)
from firestop.signals.pipeline import lock_fingerprint
from firestop.signals.schemas import (
    SNOOZE_MAX_DAYS,
    FindingPage,
    InteractionPage,
    LinkedInteraction,
    PublicStatus,
    ReportOut,
    ReportStatus,
    SignalDetail,
    SignalFinding,
    SignalGroup,
    SignalOut,
)

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
    not tell the reporter which happened. Likewise an ``interaction_ref`` that names a stored
    interaction links the signal to it (see ``_reported_interaction``), silently.
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
        first_seen=report.received_at,
        last_seen=report.received_at,
        report=report,
    )
    db.add_all([report, signal])
    db.flush()
    if report.interaction_ref is not None:
        named = system_text is not None
        found = _reported_interaction(db, report.interaction_ref, linked, named=named)
        if found is not None:
            db.add(
                SignalInteraction(
                    signal_id=signal.id,
                    interaction_id=found.id,
                    user_id=found.user_id,
                    seen_at=report.received_at,
                )
            )
            # The interaction says which system it was even when the reporter did not.
            if signal.system is None and not named:
                signal.system = found.system
            db.flush()
    return report


_ROW_ID = re.compile(r"[0-9]{1,10}")


def _reported_interaction(
    db: Session, ref: str, system: System | None, *, named: bool
) -> Interaction | None:
    """The interaction a reporter pointed at: its client id (the SDK's "report this answer"
    sends it), within the named system when one was named, or else Firestop's own id.

    A client id is unique only within a system, so one that several systems use links none
    of them: a report must never be tied to someone else's conversation by a guess. A system
    that was named but is not in the inventory holds no interactions.
    """
    ref = ref.strip()
    if named and system is None:
        return None
    query = select(Interaction).where(Interaction.client_id == ref)
    if system is not None:
        query = query.where(Interaction.system_id == system.id)
    found = list(db.scalars(query.limit(2)))
    if len(found) == 1:
        return found[0]
    if found or not _ROW_ID.fullmatch(ref) or int(ref) > 2**31 - 1:
        return None
    row = db.get(Interaction, int(ref))
    if row is None or (system is not None and row.system_id != system.id):
        return None
    return row


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


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching ``prefix`` literally at the start: '_' and '%' are escaped."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def snoozed_now(now: datetime) -> ColumnElement[bool]:
    return and_(Signal.snoozed_until.is_not(None), Signal.snoozed_until > now)


def _conditions(
    *,
    status: SignalStatus | None,
    system: str | None,
    source: SignalSource | None,
    detector: str | None,
    rule: str | None,
    escalated: bool | None,
    snoozed: bool | None,
    since: datetime | None,
    until: datetime | None,
    incident: str | None,
    now: datetime,
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if status is not None:
        found.append(Signal.status == status.value)
    if system is not None:
        found.append(Signal.system_id.in_(select(System.id).where(System.slug == system)))
    if source is not None:
        found.append(Signal.source == source.value)
    if detector is not None:
        found.append(Signal.detector_id == detector)
    if rule is not None:
        if rule.endswith("*"):
            found.append(Signal.rule.like(_like_prefix(rule[:-1]), escape="\\"))
        else:
            found.append(Signal.rule == rule)
    if escalated is not None:
        found.append(Signal.escalated.is_(escalated))
    if snoozed is True:
        found.append(snoozed_now(now))
    elif snoozed is False:
        found.append(not_(snoozed_now(now)))
    elif status == SignalStatus.new:
        # The triage queue hides what was snoozed as understood noise, but not once it
        # recurred at scale: escalation outranks a snooze, as it does in routing.
        found.append(or_(not_(snoozed_now(now)), Signal.escalated.is_(True)))
    # A signal lives from its first to its last sighting; it matches a time range it overlaps.
    if since is not None:
        found.append(Signal.last_seen >= since)
    if until is not None:
        found.append(Signal.first_seen < until)
    if incident is not None:
        found.append(
            Signal.incident_id.in_(select(Incident.id).where(Incident.key == incident.upper()))
        )
    return found


def list_signals(
    db: Session,
    *,
    status: SignalStatus | None = None,
    system: str | None = None,
    source: SignalSource | None = None,
    detector: str | None = None,
    rule: str | None = None,
    escalated: bool | None = None,
    snoozed: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    incident: str | None = None,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> list[Signal]:
    """Signals, newest first. ``status=new`` is the triage queue, ``status=near_miss`` the
    near-miss log.

    ``rule`` is exact, or a prefix when it ends with '*' (``pii.*``). ``snoozed`` true keeps
    only signals snoozed now, false only the others; left out, the triage queue
    (``status=new``) hides snoozed signals unless they escalated, and every other view shows
    them. ``since`` and ``until`` select the signals seen in that range: last seen at or after
    ``since`` and first seen before ``until``.
    """
    conditions = _conditions(
        status=status,
        system=system,
        source=source,
        detector=detector,
        rule=rule,
        escalated=escalated,
        snoozed=snoozed,
        since=since,
        until=until,
        incident=incident,
        now=now or utcnow(),
    )
    query = (
        select(Signal)
        .options(
            selectinload(Signal.system), selectinload(Signal.report), selectinload(Signal.incident)
        )
        .where(*conditions)
        .order_by(Signal.created_at.desc(), Signal.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(db.scalars(query))


def signal_groups(
    db: Session,
    *,
    status: SignalStatus | None = None,
    system: str | None = None,
    source: SignalSource | None = None,
    detector: str | None = None,
    rule: str | None = None,
    escalated: bool | None = None,
    snoozed: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> list[SignalGroup]:
    """Signals grouped by fingerprint, the most recently seen group first.

    The filters are those of ``list_signals`` and choose the signals that are grouped; a
    group's snooze is its fingerprint's, which later signals inherit.
    """
    now = now or utcnow()
    conditions = _conditions(
        status=status,
        system=system,
        source=source,
        detector=detector,
        rule=rule,
        escalated=escalated,
        snoozed=snoozed,
        since=since,
        until=until,
        incident=None,
        now=now,
    )
    latest = func.max(Signal.id)
    last_seen = func.max(Signal.last_seen)
    rows = db.execute(
        select(
            Signal.fingerprint,
            func.count(),
            func.sum(Signal.occurrences),
            func.min(Signal.first_seen),
            last_seen,
            latest,
            func.max(case((snoozed_now(now), Signal.snoozed_until))),
        )
        .where(*conditions)
        .group_by(Signal.fingerprint)
        .order_by(last_seen.desc(), latest.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    latest_ids = [row[5] for row in rows]
    signals = {
        s.id: s
        for s in db.scalars(
            select(Signal).where(Signal.id.in_(latest_ids)).options(selectinload(Signal.system))
        )
    }
    groups = []
    for fp, count, occurrences, first, last, latest_id, snoozed_until in rows:
        newest = signals[latest_id]
        groups.append(
            SignalGroup(
                fingerprint=fp,
                title=newest.title,
                source=SignalSource(newest.source),
                detector_id=newest.detector_id,
                rule=newest.rule,
                system=newest.system.slug if newest.system else None,
                signals=count,
                occurrences=int(occurrences or 0),
                first_seen=first,
                last_seen=last,
                latest_signal=latest_id,
                latest_status=SignalStatus(newest.status),
                snoozed_until=snoozed_until,
            )
        )
    return groups


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


# --- snoozing -------------------------------------------------------------------------------


def snooze_end(*, until: datetime | None, minutes: int | None, now: datetime) -> datetime:
    """When a snooze asked for as an end time or a duration ends; bounded to 90 days."""
    if (until is None) == (minutes is None):
        raise invalid(
            "give either an end time or a number of minutes",
            [FieldError("until", "give either 'until' or 'minutes'")],
        )
    limit = timedelta(days=SNOOZE_MAX_DAYS)
    if minutes is not None:
        if not 1 <= minutes <= limit.total_seconds() // 60:
            raise invalid(
                "the snooze is too short or too long",
                [FieldError("minutes", f"from 1 minute to {SNOOZE_MAX_DAYS} days")],
            )
        return now + timedelta(minutes=minutes)
    assert until is not None
    if until.tzinfo is None:
        raise invalid("the end time needs a time zone", [FieldError("until", "add a UTC offset")])
    if until <= now:
        raise invalid("a snooze must end in the future", [FieldError("until", "in the past")])
    if until > now + limit:
        raise invalid(
            "the snooze is too long",
            [FieldError("until", f"at most {SNOOZE_MAX_DAYS} days from now")],
        )
    return until


def _fingerprint_locked(db: Session, signal_id: int) -> tuple[Signal, str]:
    take_write_lock(db)  # SQLite: before the first read, or a later writer could slip in
    signal = get_signal(db, signal_id)
    # The pipeline's lock: a signal being opened for this fingerprint right now either sees
    # the snooze (and inherits it) or is already visible here to be snoozed with the rest.
    lock_fingerprint(db, signal.fingerprint)
    return signal, signal.fingerprint


def snooze_signal(
    db: Session,
    *,
    signal_id: int,
    actor: str,
    reason: str,
    until: datetime | None = None,
    minutes: int | None = None,
    now: datetime | None = None,
) -> Signal:
    """Snooze the signal's fingerprint: it leaves the triage queue until the snooze ends, and
    later signals with the same fingerprint inherit the snooze while it lasts.

    The snooze is written on this signal, on every undecided signal of the fingerprint and on
    any that carries a snooze still running, so that exactly this snooze is inherited.
    Decided signals otherwise keep their record as it was.

    An escalated signal cannot be snoozed: it recurred at scale, which outranks a snooze in
    the queue as it does in routing. It needs a decision (or a policy route) instead.
    """
    now = now or utcnow()
    reason = _reason(reason)
    end = snooze_end(until=until, minutes=minutes, now=now)
    signal, fp = _fingerprint_locked(db, signal_id)
    if signal.escalated:
        raise conflict(
            f"signal {signal_id} escalated (it recurred at scale) and stays in the queue; "
            "decide it, or route such signals with a policy rule, instead of snoozing it"
        )
    affected = db.scalars(
        select(Signal)
        .where(
            Signal.fingerprint == fp,
            or_(
                Signal.id == signal_id,
                Signal.status == SignalStatus.new.value,
                snoozed_now(now),
            ),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for each in affected:
        each.snoozed_until, each.snoozed_by, each.snooze_reason = end, actor, reason
    db.flush()
    return signal


def unsnooze_signal(db: Session, *, signal_id: int, now: datetime | None = None) -> Signal:
    """End the fingerprint's snooze now; signals already snoozed return to the queue.

    The snooze's end is set to now rather than erased, so who snoozed it and why stay on
    record. Lifting a snooze that is not running changes nothing.
    """
    now = now or utcnow()
    signal, fp = _fingerprint_locked(db, signal_id)
    running = db.scalars(
        select(Signal)
        .where(Signal.fingerprint == fp, snoozed_now(now))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for each in running:
        each.snoozed_until = now
    db.flush()
    return signal


# --- views ----------------------------------------------------------------------------------


# The detail view carries the first of a signal's interactions and findings; the rest are paged.
DETAIL_ITEMS = 50


def interaction_counts(db: Session, signal_ids: Sequence[int]) -> dict[int, int]:
    if not signal_ids:
        return {}
    rows = db.execute(
        select(SignalInteraction.signal_id, func.count())
        .where(SignalInteraction.signal_id.in_(list(signal_ids)))
        .group_by(SignalInteraction.signal_id)
    )
    return {signal_id: count for signal_id, count in rows}


def signal_views(
    db: Session, signals: Sequence[Signal], *, now: datetime | None = None
) -> list[SignalOut]:
    now = now or utcnow()
    counts = interaction_counts(db, [s.id for s in signals])
    return [
        SignalOut.model_validate(_signal_fields(s, interactions=counts.get(s.id, 0), now=now))
        for s in signals
    ]


def signal_view(db: Session, signal: Signal) -> SignalOut:
    return signal_views(db, [signal])[0]


def signal_detail(db: Session, signal: Signal, *, with_contact: bool) -> SignalDetail:
    """The signal with its report, its first interactions and findings; the reporter's
    contact only when ``with_contact``."""
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
    linked = signal_interactions(db, signal.id, limit=DETAIL_ITEMS, offset=0)
    fields = _signal_fields(signal, interactions=linked.total, now=utcnow())
    return SignalDetail.model_validate(
        {
            **fields,
            "report_detail": detail,
            "linked_interactions": linked,
            "findings": signal_findings(db, signal.id, limit=DETAIL_ITEMS, offset=0),
        }
    )


def signal_interactions(db: Session, signal_id: int, *, limit: int, offset: int) -> InteractionPage:
    """The signal's interactions, the most recently seen first, without their content."""
    total = db.scalar(
        select(func.count())
        .select_from(SignalInteraction)
        .where(SignalInteraction.signal_id == signal_id)
    )
    rows = db.execute(
        select(Interaction, SignalInteraction.seen_at)
        .join(SignalInteraction, SignalInteraction.interaction_id == Interaction.id)
        .where(SignalInteraction.signal_id == signal_id)
        .options(selectinload(Interaction.system))
        .order_by(SignalInteraction.seen_at.desc(), Interaction.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = [
        LinkedInteraction(
            id=row.id,
            client_id=row.client_id,
            system=row.system.slug,
            user_id=row.user_id,
            started_at=row.started_at,
            seen_at=seen_at,
            url=f"/api/v1/interactions/{row.id}",
        )
        for row, seen_at in rows
    ]
    return InteractionPage(total=total or 0, limit=limit, offset=offset, items=items)


def signal_findings(db: Session, signal_id: int, *, limit: int, offset: int) -> FindingPage:
    """What the detectors found for the signal, oldest first; excerpts are already redacted."""
    total = db.scalar(
        select(func.count()).select_from(FindingRow).where(FindingRow.signal_id == signal_id)
    )
    rows = db.scalars(
        select(FindingRow)
        .where(FindingRow.signal_id == signal_id)
        .order_by(FindingRow.id)
        .limit(limit)
        .offset(offset)
    )
    items = [
        SignalFinding(
            id=f.id,
            interaction_id=f.interaction_id,
            detector=f.detector,
            rule=f.rule,
            title=f.title,
            path=f.path,
            start=f.start,
            end=f.end,
            excerpt=f.excerpt,
            severity=f.severity,
            created_at=f.created_at,
        )
        for f in rows
    ]
    return FindingPage(total=total or 0, limit=limit, offset=offset, items=items)


def _signal_fields(signal: Signal, *, interactions: int, now: datetime) -> dict[str, object]:
    snoozed_until = signal.snoozed_until
    return {
        "id": signal.id,
        "source": SignalSource(signal.source),
        "detector_id": signal.detector_id,
        "rule": signal.rule,
        "system": signal.system.slug if signal.system else None,
        "title": signal.title,
        "summary": signal.summary,
        "category_hint": signal.category_hint,
        "severity_hint": signal.severity_hint,
        "fingerprint": signal.fingerprint,
        "status": SignalStatus(signal.status),
        "created_at": signal.created_at,
        "first_seen": signal.first_seen,
        "last_seen": signal.last_seen,
        "occurrences": signal.occurrences,
        "interactions": interactions,
        "escalated": signal.escalated,
        "route_rule": signal.route_rule,
        "snoozed": snoozed_until is not None and snoozed_until > now,
        "snoozed_until": snoozed_until,
        "snoozed_by": signal.snoozed_by,
        "snooze_reason": signal.snooze_reason,
        "report": signal.report.reference if signal.report else None,
        "incident": signal.incident.key if signal.incident else None,
        "decided_by": signal.decided_by,
        "decided_at": signal.decided_at,
        "decision_reason": signal.decision_reason,
    }
