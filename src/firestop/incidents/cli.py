"""``firestop incident``: read incidents from a terminal.

Incident text comes from reports and AI output, so it is hostile: it is printed as plain
text (never as Rich markup) and control characters are shown as escapes, so a report cannot
move the cursor, recolour the terminal or hide lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from firestop.incidents.models import IncidentStatus
from firestop.policy.schemas import Sev

if TYPE_CHECKING:
    from datetime import datetime

    from firestop.incidents.schemas import IncidentDetail

app = typer.Typer(help="Incidents: list them and show one.", no_args_is_help=True)

# ``firestop.cli`` mounts this app while it is being imported, so it is imported lazily below.


def plain(value: object) -> Text:
    """Text that is displayed exactly, with control characters made visible."""
    return Text("".join(_visible(ch) for ch in str(value)))


def _visible(ch: str) -> str:
    if ch in "\n\t" or ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


@app.command("list")
def list_incidents(
    all_: Annotated[bool, typer.Option("--all", help="Include closed incidents")] = False,
    status: Annotated[IncidentStatus | None, typer.Option(help="Only this status")] = None,
    severity: Annotated[Sev | None, typer.Option(help="Only this effective severity")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
) -> None:
    """Open incidents, newest first (``--all`` includes closed ones)."""
    from firestop import cli
    from firestop.db import unit_of_work
    from firestop.incidents import service, views

    with unit_of_work(cli.session_factory()) as db:
        summaries = [
            views.incident_summary(i)
            for i in service.list_incidents(
                db, open_only=not all_, status=status, severity=severity, limit=limit
            )
        ]
    if not summaries:
        cli.out.print("no incidents")
        return
    table = Table("key", "severity", "status", "title", "commander", "detected")
    for s in summaries:
        table.add_row(
            s.key,
            (s.severity.value if s.severity else "—") + ("*" if s.severity_overridden else ""),
            s.status.value + (f" ({s.outcome})" if s.outcome else ""),
            plain(s.title),
            plain(s.commander or "—"),
            _when(s.detected_at),
        )
    cli.out.print(table)


@app.command("show")
def show_incident(
    key: Annotated[str, typer.Argument(help="Incident key, e.g. AI-2026-0001")],
) -> None:
    """Everything recorded about one incident, with the latest timeline events."""
    from firestop import cli
    from firestop.db import unit_of_work
    from firestop.errors import FirestopError
    from firestop.incidents import records, views
    from firestop.policy.service import load_policy

    try:
        policy = load_policy(cli.settings().policy)
        with unit_of_work(cli.session_factory()) as db:
            detail = views.incident_view(db, policy=policy, key=key)
            events = records.timeline(db, key)[-10:]
    except FirestopError as exc:
        raise cli.fail(exc.detail) from exc
    for line in _describe(detail):
        cli.out.print(line)
    if events:
        table = Table("#", "at", "actor", "event", "note", title="latest timeline events")
        for e in events:
            table.add_row(str(e.seq), _when(e.at), plain(e.actor), e.kind, plain(e.note or ""))
        cli.out.print(table)


def _describe(d: IncidentDetail) -> list[Text]:
    severity = d.severity
    level = severity.level.value if severity.level else "not assessed"
    if severity.override:
        level += f" (overridden from {severity.computed.value if severity.computed else 'none'})"
    lines = [
        Text.assemble((d.key, "bold"), "  ", plain(d.title)),
        Text(f"status:     {d.status.value}" + (f" — {d.outcome}" if d.outcome else "")),
        Text(f"severity:   {level}; route {severity.route.value if severity.route else '—'}"),
    ]
    if severity.assessment:
        lines.append(Text(f"            {severity.assessment.explanation}"))
    if severity.override_reason:
        lines.append(Text.assemble("override:   ", plain(severity.override_reason)))
    lines += [
        Text("categories: " + ", ".join(c.label for c in d.categories)),
        Text.assemble("tags:       ", plain(", ".join(d.tags) or "—")),
        Text(f"detected:   {_when(d.detected_at)}   began: {_when(d.began_at)}"),
        Text(f"continuing: {d.continuing.value}"),
        Text.assemble("commander:  ", plain(d.commander.display_name if d.commander else "—")),
    ]
    for s in d.systems:
        lines.append(
            Text.assemble(
                "system:     ",
                plain(
                    f"{s.name} ({s.system}) model {s.model_version or '?'}, "
                    f"app {s.application_version or '?'}"
                ),
            )
        )
    if d.summary:
        lines.append(Text.assemble("summary:    ", plain(d.summary)))
    if d.what_happened:
        lines.append(Text.assemble("what happened:\n", plain(d.what_happened)))
    for c in d.claims:
        confirmer = f" by {c.confirmed_by}" if c.confirmed_by else ""
        lines.append(
            Text.assemble(f"claim {c.id} [{c.status.value}{confirmer}] ", plain(c.statement))
        )
    for r in d.external_refs:
        if r.removed_at is None:
            lines.append(
                Text.assemble("ticket:     ", plain(f"{r.system} {r.ticket} {r.url or ''}"))
            )
    actions = ", ".join(a.label for a in d.suggested_actions)
    lines.append(Text(f"suggested:  {actions or '—'}"))
    return lines
