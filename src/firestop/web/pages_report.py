"""The public report form (D1) and the coarse status page a reporter can follow.

Both need no account. Submissions go through the same service and the same rate limiter
as ``POST /api/v1/reports``; the status page shows nothing internal.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.responses import HTMLResponse

from firestop.auth import MaybePrincipal, Permission, Principal
from firestop.config import Settings
from firestop.deps import DB, AppSettings
from firestop.errors import FirestopError
from firestop.ratelimit import SlidingWindowLimiter, client_address
from firestop.signals import service as signals
from firestop.signals.models import ReportChannel
from firestop.web.security import check_form_token, form_token, set_form_cookie
from firestop.web.templating import render

router = APIRouter(include_in_schema=False)

# The same bounds as the API's report shape.
SYSTEM_MAX = 200
INTERACTION_MAX = 500
CONTACT_MAX = 500
# Generous bound for the form parser; the real limit is report_max_bytes, checked below.
_FIELD_MAX = 1_000_000


def _form_page(
    request: Request,
    settings: Settings,
    principal: Principal | None,
    *,
    fields: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    token = principal.csrf_token if principal is not None else form_token(request)
    response = render(
        request,
        "report.html",
        principal=principal,
        status_code=status_code,
        headers=headers,
        csrf_token=token,
        fields=fields or {"text": "", "system": "", "interaction_ref": "", "contact": ""},
        error=error,
        max_bytes=settings.report_max_bytes,
    )
    if principal is None:
        set_form_cookie(response, token or "", settings)
    return response


@router.get("/report")
def report_form(request: Request, settings: AppSettings, principal: MaybePrincipal) -> Response:
    return _form_page(request, settings, principal)


def _retry_after(request: Request, principal: Principal | None) -> int | None:
    """Seconds to wait when this address is over the limit, else None.

    Anyone who may report on others' behalf (a help desk) is not limited, as in the API.
    """
    if principal is not None and principal.can(Permission.report):
        return None
    limiter: SlidingWindowLimiter = request.app.state.report_limiter
    decision = limiter.hit(client_address(request))
    return None if decision.allowed else decision.retry_after


@router.post("/report")
def submit_report(
    request: Request,
    db: DB,
    settings: AppSettings,
    principal: MaybePrincipal,
    text: Annotated[str, Form(max_length=_FIELD_MAX)] = "",
    system: Annotated[str, Form(max_length=_FIELD_MAX)] = "",
    interaction_ref: Annotated[str, Form(max_length=_FIELD_MAX)] = "",
    contact: Annotated[str, Form(max_length=_FIELD_MAX)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    text = text.replace("\r\n", "\n")
    fields = {
        "text": text,
        "system": system,
        "interaction_ref": interaction_ref,
        "contact": contact,
    }

    def again(error: str, status_code: int, headers: dict[str, str] | None = None) -> Response:
        return _form_page(
            request,
            settings,
            principal,
            fields=fields,
            error=error,
            status_code=status_code,
            headers=headers,
        )

    if principal is None:
        # A signed-in browser's token was checked with its session; others double-submit.
        # A refused token (cookies cleared, page left open too long) returns the form with
        # what was typed and a fresh token, so the report is not lost.
        try:
            check_form_token(request, csrf_token)
        except FirestopError:
            return again(
                "This form had expired or did not come from this site, so your report was "
                "not sent. Your text is kept below: please check it and send it again.",
                status.HTTP_403_FORBIDDEN,
            )
    retry_after = _retry_after(request, principal)
    if retry_after is not None:
        return again(
            f"Too many reports from this address; wait {retry_after} seconds and send it "
            "again. Your text is kept below.",
            status.HTTP_429_TOO_MANY_REQUESTS,
            {"Retry-After": str(retry_after)},
        )

    size = len(text.encode("utf-8", "surrogatepass"))
    if size > settings.report_max_bytes:
        return again(
            f"Your report is {size} bytes long; at most {settings.report_max_bytes} are "
            "accepted. Please shorten it and send it again.",
            413,
        )
    if not text.strip():
        return again("Please describe what happened.", 422)
    for name, value, limit in (
        ("the system", system, SYSTEM_MAX),
        ("the interaction reference", interaction_ref, INTERACTION_MAX),
        ("the contact", contact, CONTACT_MAX),
    ):
        if len(value) > limit:
            return again(f"The field for {name} may hold at most {limit} characters.", 422)
    report = signals.submit_report(
        db,
        text=text,
        system=system,
        interaction_ref=interaction_ref,
        contact=contact,
        channel=ReportChannel.web,
        submitted_by=principal.actor if principal is not None else None,
    )
    db.commit()
    # The receipt answers the reporter's own post, so only they see their text echoed back;
    # the status page it links to shows the coarse status alone, to anyone with the link.
    status_path = f"/report/{report.reference}"
    return render(
        request,
        "report_receipt.html",
        principal=principal,
        status_code=201,
        headers={"Location": status_path},
        reference=report.reference,
        received_at=report.received_at,
        status_url=_absolute(request, status_path),
        fields=fields,
    )


def _absolute(request: Request, path: str) -> str:
    return f"{str(request.base_url).rstrip('/')}{path}"


@router.get("/report/{reference}")
def report_status(
    request: Request, reference: str, db: DB, principal: MaybePrincipal
) -> HTMLResponse:
    found = signals.report_status(db, reference=reference)
    return render(
        request,
        "report_status.html",
        principal=principal,
        report=found,
        status_url=_absolute(request, f"/report/{found.reference}"),
    )
