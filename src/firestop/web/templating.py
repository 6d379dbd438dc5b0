"""The Jinja2 environment every page renders through.

Autoescaping is on for every template, whatever its name: incident text, reports and
anything an AI system produced are hostile input and must reach the browser as text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from firestop import __version__
from firestop.auth import Principal
from firestop.db import utcnow
from firestop.web.facts import shown_time


def when(value: datetime | None) -> str:
    """A timestamp as people read it on a timeline: UTC, to the second."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat()


def age(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, coarse enough to scan a list: '3 d 4 h', '2 h 5 min', '40 s'."""
    if value is None:
        return "—"
    seconds = max(0, int(((now or utcnow()) - value).total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


def _cell(value: Any) -> str:
    """One value of a timeline change as text: strings as they are, the rest as JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def changes(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """A timeline event's before and after as rows of (field, before, after), as text.

    Objects are compared field by field; anything else is one row. The values are hostile
    text like everything else and are escaped when the row is rendered.
    """
    if isinstance(before, dict | None) and isinstance(after, dict | None):
        old, new = before or {}, after or {}
        return [
            (key, _cell(old.get(key)), _cell(new.get(key))) for key in dict.fromkeys([*old, *new])
        ]
    return [("", _cell(before), _cell(after))]


def label(value: object) -> str:
    """``in_progress`` → ``in progress``: identifiers shown as words."""
    text = getattr(value, "value", value)
    return str(text).replace("_", " ")


# After a form succeeds the browser is redirected with ``?done=<key>``; only these fixed
# messages can appear, so nothing from the query string is ever echoed into the page.
NOTICES = {
    "accepted": "The signal was accepted into the incident.",
    "near_miss": "The signal was logged as a near miss.",
    "dismissed": "The signal was dismissed.",
    "snoozed": "The signal was snoozed; later signals like it stay snoozed until it ends.",
    "unsnoozed": "The snooze was lifted.",
    "status": "The incident status was changed.",
    "severity": "The severity was reassessed.",
    "override": "The severity override was recorded.",
    "claim": "The claim was recorded.",
    "claim_status": "The claim was updated.",
    "participant": "The participant was added.",
    "participant_removed": "The participant was removed.",
    "external_ref": "The external reference was added.",
    "external_ref_removed": "The external reference was removed.",
    "facts": "The facts were saved; each change is on the timeline.",
    "harm": "The harm assessment was recorded.",
}


def _make_env() -> Environment:
    env = Environment(
        loader=PackageLoader("firestop.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, iso=iso, age=age, label=label, datetime_local=shown_time)
    env.globals.update(changes=changes, version=__version__)
    return env


env = _make_env()


def render(
    request: Request,
    template: str,
    *,
    principal: Principal | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    values: dict[str, Any] = {
        "request": request,
        "principal": principal,
        "csrf_token": principal.csrf_token if principal is not None else None,
        "path": request.url.path,
        "notice": NOTICES.get(request.query_params.get("done", "")),
        **context,
    }
    page = env.get_template(template).render(values)
    return HTMLResponse(page, status_code=status_code, headers=headers)
