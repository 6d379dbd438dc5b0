"""Public report intake (D1): open to anyone, bounded, and safe with hostile text."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.api import create_app
from firestop.config import Settings
from firestop.signals import service
from firestop.signals.models import Report, Signal
from tests.incidents.support import make_system

Auth = Callable[[str], dict[str, str]]
REFERENCE = re.compile(r"R-[A-Z2-7]{16}")

HOSTILE = [
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "'; DROP TABLE signals; --",
    "[bold red]rich markup[/] {{ jinja }} ${shell} %(fmt)s",
    "line one\r\nline two\x1b[31m red \x07 bell \x08\x7f",
    "\u202eevil.exe\u202c zero\u200bwidth \ufeff bom",
    "𝕳𝖆𝖗𝖒𝖋𝖚𝖑 😈 " + "ü" * 2000,
]


def _submit(client: TestClient, **body: object) -> dict[str, object]:
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


def test_anyone_can_report_and_follow_the_reference(client: TestClient, db: Session) -> None:
    receipt = _submit(client, text="The assistant told me someone else's address.")
    reference = str(receipt["reference"])
    assert REFERENCE.fullmatch(reference)
    assert receipt["url"] == f"/report/{reference}"
    assert receipt["status"] == "received"

    status = client.get(f"/api/v1/reports/{reference}")
    assert status.status_code == 200
    assert status.json()["status"] == "received"
    assert set(status.json()) == {"reference", "received_at", "status", "description"}

    signal = db.scalars(select(Signal)).one()
    assert signal.status == "new"
    assert signal.source == "report"
    assert signal.report is not None and signal.report.reference == reference
    assert signal.report.submitted_by is None
    assert signal.report.channel == "api"


def test_references_are_unique_and_random(client: TestClient) -> None:
    refs = {str(_submit(client, text=f"report {i}")["reference"]) for i in range(20)}
    assert len(refs) == 20
    assert len({r[2:6] for r in refs}) > 1  # not a counter with a shared prefix


def test_a_credential_records_who_submitted(client: TestClient, auth: Auth, db: Session) -> None:
    response = client.post(
        "/api/v1/reports",
        json={"text": "Customer called: refund denied by the bot", "channel": "help_desk"},
        headers=auth("reporter"),
    )
    assert response.status_code == 201
    report = db.scalars(select(Report)).one()
    assert report.submitted_by == "token:test-reporter"
    assert report.channel == "help_desk"


def test_a_bad_credential_is_refused_not_ignored(client: TestClient) -> None:
    response = client.post(
        "/api/v1/reports", json={"text": "hello"}, headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": ""},
        {"text": "   \n\t "},
        {"text": "fine", "severity": "SEV1"},
        {"text": "fine", "channel": "carrier-pigeon"},
        {"text": 42},
    ],
)
def test_invalid_reports_are_problems(client: TestClient, body: dict[str, object]) -> None:
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"]


def test_report_must_be_json(client: TestClient) -> None:
    response = client.post(
        "/api/v1/reports",
        content=b"text=hello",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    malformed = client.post(
        "/api/v1/reports", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422


def test_oversized_report_is_413_before_parsing(
    client: TestClient, settings: Settings, db: Session
) -> None:
    limit = settings.report_max_bytes
    just_fits = json.dumps({"text": "x" * (limit - 20)})
    assert len(just_fits.encode()) <= limit
    ok = client.post(
        "/api/v1/reports", content=just_fits, headers={"content-type": "application/json"}
    )
    assert ok.status_code == 201

    too_big = json.dumps({"text": "x" * limit}).encode()
    response = client.post(
        "/api/v1/reports", content=too_big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert str(limit) in response.json()["detail"]

    # Without a Content-Length (chunked), the limit still holds while reading.
    chunks: Iterator[bytes] = iter([too_big[i : i + 1000] for i in range(0, len(too_big), 1000)])
    chunked = client.post(
        "/api/v1/reports", content=chunks, headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413
    # An invalid body over the limit is refused for its size, not parsed.
    junk = client.post(
        "/api/v1/reports", content=b"{" * (limit + 1), headers={"content-type": "application/json"}
    )
    assert junk.status_code == 413
    assert db.scalar(select(Report.id).where(Report.text == "x" * limit)) is None


@pytest.fixture
def strict_app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings.model_copy(update={"report_rate_per_minute": 3}))
    yield application
    application.state.engine.dispose()


def test_reports_are_rate_limited_per_address(strict_app: FastAPI) -> None:
    with TestClient(strict_app, raise_server_exceptions=False) as client:
        for i in range(3):
            assert client.post("/api/v1/reports", json={"text": f"r{i}"}).status_code == 201
        response = client.post("/api/v1/reports", json={"text": "one too many"})
        assert response.status_code == 429
        assert response.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(response.headers["retry-after"]) <= 60
        # Refused requests are not counted as accepted ones, and the limiter is shared state.
        assert strict_app.state.report_limiter.hit("testclient").allowed is False
        # Another address has its own budget.
        assert strict_app.state.report_limiter.hit("192.0.2.7").allowed is True


def test_help_desk_callers_are_not_rate_limited(strict_app: FastAPI) -> None:
    from firestop.access import service as access
    from firestop.access.models import Role

    with strict_app.state.sessionmaker() as session:
        _, clear = access.create_token(session, name="desk", role=Role.reporter, created_by="t")
        session.commit()
    headers = {"Authorization": f"Bearer {clear}"}
    with TestClient(strict_app, raise_server_exceptions=False) as client:
        for i in range(5):
            response = client.post("/api/v1/reports", json={"text": f"call {i}"}, headers=headers)
            assert response.status_code == 201


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_stored_verbatim_and_never_interpreted(
    client: TestClient, auth: Auth, db: Session, text: str
) -> None:
    receipt = _submit(client, text=text, contact=text[:400], interaction_ref=text[:400])
    report = db.scalars(select(Report)).one()
    assert report.text == text
    assert report.contact == text[:400]
    signal = db.scalars(select(Signal)).one()
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in signal.title)
    assert len(signal.title) <= service.TITLE_LENGTH

    detail = client.get(f"/api/v1/signals/{signal.id}", headers=auth("responder"))
    assert detail.json()["report_detail"]["text"] == text  # JSON-encoded, as given
    public = client.get(f"/api/v1/reports/{receipt['reference']}").text
    assert text not in public and signal.title not in public


def test_nul_is_the_only_change_and_lone_surrogates_are_refused(
    client: TestClient, db: Session
) -> None:
    json_type = {"content-type": "application/json"}
    raw = b'{"text": "before\\u0000after <b>kept</b>"}'
    response = client.post("/api/v1/reports", content=raw, headers=json_type)
    assert response.status_code == 201
    assert db.scalars(select(Report.text)).one() == "before\ufffdafter <b>kept</b>"
    lone = client.post("/api/v1/reports", content=b'{"text": "a \\ud800 b"}', headers=json_type)
    assert lone.status_code == 422
    invalid_utf8 = client.post(
        "/api/v1/reports", content=b'{"text": "\xff\xfe"}', headers=json_type
    )
    assert invalid_utf8.status_code == 422


def test_system_is_linked_only_when_known_and_reply_does_not_tell(
    client: TestClient, db: Session
) -> None:
    make_system(db, "support-bot")
    known = client.post("/api/v1/reports", json={"text": "a", "system": "support-bot"})
    unknown = client.post("/api/v1/reports", json={"text": "b", "system": "secret-project"})
    assert known.status_code == unknown.status_code == 201
    assert set(known.json()) == set(unknown.json())
    reports = {r.text: r for r in db.scalars(select(Report))}
    assert reports["a"].system is not None and reports["a"].system.slug == "support-bot"
    assert reports["a"].signal.system_id == reports["a"].system_id
    assert reports["b"].system_id is None and reports["b"].system_text == "secret-project"


def test_unknown_references_are_not_found(client: TestClient) -> None:
    for ref in ("R-AAAAAAAAAAAAAAAA", "nope", "R-aaaaaaaaaaaaaaaa", "AI-2026-0001"):
        response = client.get(f"/api/v1/reports/{ref}")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")


def test_status_view_follows_triage_and_leaks_nothing(
    client: TestClient, auth: Auth, db: Session
) -> None:
    mine = _submit(client, text="My loan was refused by the AI", contact="me@example.org")
    _submit(client, text="OTHER REPORT with a secret detail")
    ref = mine["reference"]
    signal_id = db.scalar(select(Signal.id).join(Report).where(Report.reference == ref))
    triager = auth("responder")
    accepted = client.post(
        f"/api/v1/signals/{signal_id}/accept",
        json={"title": "Loan refusals", "categories": ["harmful_output"], "note": "INTERNAL NOTE"},
        headers=triager,
    )
    assert accepted.status_code == 200, accepted.text
    key = accepted.json()["incident"]

    def public() -> dict[str, object]:
        response = client.get(f"/api/v1/reports/{ref}")
        assert response.status_code == 200
        body: dict[str, object] = response.json()
        text = response.text
        for secret in (key, "INTERNAL NOTE", "OTHER REPORT", "Loan refusals", "me@example.org"):
            assert secret not in text
        assert set(body) == {"reference", "received_at", "status", "description"}
        return body

    assert public()["status"] == "under_review"
    client.post(
        f"/api/v1/incidents/{key}/status", json={"status": "investigating"}, headers=triager
    )
    assert public()["status"] == "linked_to_incident"


@pytest.mark.parametrize("action", ["near-miss", "dismiss"])
def test_decided_reports_show_closed_without_saying_why(
    client: TestClient, auth: Auth, db: Session, action: str
) -> None:
    ref = _submit(client, text="odd answer")["reference"]
    signal_id = db.scalar(select(Signal.id))
    client.post(
        f"/api/v1/signals/{signal_id}/{action}", json={"reason": "REASON"}, headers=auth("admin")
    )
    body = client.get(f"/api/v1/reports/{ref}").json()
    assert body["status"] == "closed"
    assert "REASON" not in json.dumps(body)


@given(st.text(max_size=400))
def test_derived_title_and_summary_are_flat_and_bounded(text: str) -> None:
    title = service.derive_title(text)
    assert 1 <= len(title) <= service.TITLE_LENGTH
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in title)
    summary = service.derive_summary(text)
    assert len(summary) <= service.SUMMARY_LENGTH
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in summary.replace("\n", ""))


@given(st.text())
def test_storable_changes_only_nul_and_surrogates(text: str) -> None:
    stored = service.storable(text)
    assert len(stored) == len(text)
    for given_char, kept in zip(text, stored, strict=True):
        if given_char == "\x00" or "\ud800" <= given_char <= "\udfff":
            assert kept == "\ufffd"
        else:
            assert kept == given_char
    stored.encode("utf-8")  # always storable
