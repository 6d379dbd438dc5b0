"""The public report form: size and rate limits, shared with the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from firestop.access.models import Role
from firestop.ratelimit import SlidingWindowLimiter
from firestop.signals import service as signals
from firestop.signals.models import SignalStatus
from tests.web.support import Login, client_log_in, csrf_from


def _send(client: TestClient, text: str, **fields: str) -> object:
    form = client.get("/report")
    return client.post(
        "/report",
        data={"text": text, "csrf_token": csrf_from(form.text), **fields},
        follow_redirects=False,
    )


@pytest.mark.browser
def test_a_report_through_the_form_reaches_the_triage_queue(page: Page, app: FastAPI) -> None:
    page.goto("/report")
    page.get_by_label("What happened?").fill("The chat bot quoted\r\nsomeone else's policy.")
    page.get_by_label("Which AI system?").fill("support-assistant")
    page.get_by_label("Conversation or interaction reference").fill("chat-8812")
    page.get_by_role("button", name="Send report").click()
    reference = page.locator("#reference").inner_text()
    expect(page.locator("#status-link")).to_have_text(f"{app_url(page)}/report/{reference}")

    with app.state.sessionmaker() as db:
        (signal,) = signals.list_signals(db, status=SignalStatus.new)
        assert signal.report is not None
        assert signal.report.reference == reference
        assert signal.report.channel == "web"
        assert signal.report.text == "The chat bot quoted\nsomeone else's policy."
        assert signal.report.interaction_ref == "chat-8812"
        assert signal.report.contact is None


def app_url(page: Page) -> str:
    return "/".join(page.url.split("/")[:3])


@pytest.mark.browser
def test_too_long_a_report_is_returned_with_the_reason(page: Page, app: FastAPI) -> None:
    limit = app.state.settings.report_max_bytes
    page.goto("/report")
    page.get_by_label("What happened?").fill("x" * (limit + 1))
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("alert")).to_contain_text(f"at most {limit} are accepted")
    # What was typed is kept, so it can be shortened rather than written again.
    assert len(page.get_by_label("What happened?").input_value()) == limit + 1


@pytest.mark.browser
def test_too_many_reports_ask_the_reporter_to_wait(page: Page, app: FastAPI) -> None:
    app.state.report_limiter = SlidingWindowLimiter(1, 60.0)
    for attempt in range(2):
        page.goto("/report")
        page.get_by_label("What happened?").fill(f"attempt {attempt}")
        page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("alert")).to_contain_text("wait")
    expect(page.get_by_role("alert")).to_contain_text("seconds and send it again")
    # The refused report is kept in the form, to send once the wait is over.
    expect(page.get_by_label("What happened?")).to_have_value("attempt 1")


def test_the_page_and_the_api_share_one_limiter(app: FastAPI, client: TestClient) -> None:
    app.state.report_limiter = SlidingWindowLimiter(1, 60.0)
    assert client.post("/api/v1/reports", json={"text": "via the API"}).status_code == 201
    refused = _send(client, "via the page")
    assert getattr(refused, "status_code", None) == 429
    assert refused.headers["retry-after"]  # type: ignore[attr-defined]


def test_a_rate_limited_report_is_returned_in_the_form(app: FastAPI, client: TestClient) -> None:
    app.state.report_limiter = SlidingWindowLimiter(1, 60.0)
    assert getattr(_send(client, "the first one"), "status_code", None) == 201
    refused = _send(client, "Bot leaked <my> address", system="chat-1", contact="me@x.test")
    assert getattr(refused, "status_code", None) == 429
    assert refused.headers["retry-after"]  # type: ignore[attr-defined]
    page = getattr(refused, "text", "")
    assert "Too many reports from this address" in page
    assert ">Bot leaked &lt;my&gt; address</textarea>" in page
    assert 'value="chat-1"' in page
    assert 'value="me@x.test"' in page
    # The returned form carries a usable token: it can be sent again once the wait is over.
    app.state.report_limiter = SlidingWindowLimiter(5, 60.0)
    again = client.post(
        "/report",
        data={"text": "Bot leaked <my> address", "csrf_token": csrf_from(page)},
        follow_redirects=False,
    )
    assert again.status_code == 201


def test_a_report_with_an_expired_form_is_returned_in_the_form(client: TestClient) -> None:
    client.get("/report")
    client.cookies.clear()  # the form's cookie is gone, as after clearing cookies
    refused = client.post(
        "/report",
        data={
            "text": "The assistant\r\nquoted a stranger's order",
            "interaction_ref": "chat-42",
            "csrf_token": "stale-token",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    assert "This form had expired" in refused.text
    assert ">The assistant\nquoted a stranger&#39;s order</textarea>" in refused.text
    assert 'value="chat-42"' in refused.text
    # A fresh token and cookie come with it, so sending it again works.
    again = client.post(
        "/report",
        data={
            "text": "The assistant quoted a stranger's order",
            "csrf_token": csrf_from(refused.text),
        },
        follow_redirects=False,
    )
    assert again.status_code == 201


def test_a_help_desk_is_not_rate_limited(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    app.state.report_limiter = SlidingWindowLimiter(1, 60.0)
    csrf = client_log_in(client, make_user(Role.reporter))
    for n in range(3):
        response = client.post(
            "/report", data={"text": f"caller {n}", "csrf_token": csrf}, follow_redirects=False
        )
        assert response.status_code == 201
    with app.state.sessionmaker() as db:
        reports = [s.report for s in signals.list_signals(db)]
        assert {r.submitted_by for r in reports if r} == {"reporter1"}


def test_the_report_form_needs_its_token_and_text(client: TestClient) -> None:
    client.get("/report")
    assert client.post("/report", data={"text": "no token"}).status_code == 403
    blank = _send(client, "   ")
    assert getattr(blank, "status_code", None) == 422
    long_contact = _send(client, "fine", contact="c" * 501)
    assert getattr(long_contact, "status_code", None) == 422


def test_a_body_far_over_the_limit_is_refused_unread(app: FastAPI, client: TestClient) -> None:
    limit = app.state.settings.report_max_bytes
    response = _send(client, "y" * (limit * 4))
    assert getattr(response, "status_code", None) == 413
    assert "text/html" in response.headers["content-type"]  # type: ignore[attr-defined]


def test_the_status_page_of_an_unknown_reference(client: TestClient) -> None:
    for reference in ("R-AAAAAAAAAAAAAAAA", "not-a-reference"):
        response = client.get(f"/report/{reference}")
        assert response.status_code == 404
        assert "no report with this reference" in response.text
