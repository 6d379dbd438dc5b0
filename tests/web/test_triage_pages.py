"""The triage queue and signal pages without a browser: what they show, who may act, and
that forms need their CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape

from firestop.access.models import Role
from firestop.signals import service as signals
from firestop.signals.models import SignalSource
from firestop.signals.pipeline import Hit, fingerprint_of, raise_hit
from firestop.web.pages_signals import INTERACTIONS_PER_PAGE
from tests.signals.support import make_system, record, run, use_policy
from tests.web.support import HOSTILE_TEXT, Login, client_log_in


def _ingested(app: FastAPI, count: int) -> int:
    pipeline = use_policy(app)
    with app.state.sessionmaker() as db:
        make_system(db)
        texts = [record(f"conv-{i}", f"{HOSTILE_TEXT} x{i}@example.com") for i in range(count)]
        run(db, pipeline, texts, now=datetime.now(UTC))
        (signal,) = signals.list_signals(db, detector="pii")
        return signal.id


def test_the_signal_page_lists_interactions_and_findings(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    signal_id = _ingested(app, INTERACTIONS_PER_PAGE + 3)
    client_log_in(client, make_user(Role.viewer))
    html = client.get(f"/signals/{signal_id}").text
    assert '<dd id="signal-occurrences">53</dd>' in html
    assert '<span class="mono">pii.email</span>' in html
    assert f'Interactions <span class="muted small">({INTERACTIONS_PER_PAGE + 3})</span>' in html
    assert html.count('<a href="/api/v1/interactions/') == INTERACTIONS_PER_PAGE * 2
    assert f"Showing 1–{INTERACTIONS_PER_PAGE} of 53." in html
    assert f"?interactions={INTERACTIONS_PER_PAGE}#interactions" in html
    # Excerpts are redacted, and hostile text in them is escaped.
    assert "x0@example.com" not in html
    assert str(escape("[pii.email]")) in html
    assert "<script>window.__pwned" not in html
    second = client.get(f"/signals/{signal_id}?interactions={INTERACTIONS_PER_PAGE}").text
    assert "Showing 51–53 of 53." in second
    assert "?interactions=0#interactions" in second
    # Readers get no snooze form.
    assert 'action="/signals/' not in html
    assert client.get(f"/signals/{signal_id}?interactions=-1").status_code == 422


def test_snooze_forms_need_the_csrf_token_and_the_triage_permission(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    with app.state.sessionmaker() as db:
        hit = Hit(
            source=SignalSource.alert,
            title="Disk full",
            fingerprint=fingerprint_of(SignalSource.alert, "disk"),
        )
        signal_id = raise_hit(db, policy=app.state.policy, hit=hit).signal.id
        db.commit()
    csrf = client_log_in(client, make_user(Role.responder))
    page = client.get(f"/signals/{signal_id}").text
    assert f'action="/signals/{signal_id}/snooze"' in page
    url = f"/signals/{signal_id}/snooze"
    forged = client.post(url, data={"minutes": "60", "reason": "x"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    too_long = client.post(url, data={"csrf_token": csrf, "minutes": "999999", "reason": "x"})
    assert too_long.status_code == 422
    blank = client.post(url, data={"csrf_token": csrf, "minutes": "60", "reason": " "})
    assert blank.status_code == 422
    done = client.post(
        url, data={"csrf_token": csrf, "minutes": "60", "reason": "ok"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/signals/{signal_id}?done=snoozed"
    page = client.get(done.headers["location"]).text
    assert f'action="/signals/{signal_id}/unsnooze"' in page
    assert client.post(f"/signals/{signal_id}/unsnooze").status_code == 403  # no token

    client.cookies.clear()
    viewer_csrf = client_log_in(client, make_user(Role.viewer))
    denied = client.post(f"/signals/{signal_id}/unsnooze", data={"csrf_token": viewer_csrf})
    assert denied.status_code == 403
    with app.state.sessionmaker() as db:
        assert signals.get_signal(db, signal_id).snooze_reason == "ok"


def test_the_queue_page_escapes_and_filters(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    with app.state.sessionmaker() as db:
        for detector, title in (("pii", HOSTILE_TEXT), ("alert", "plain")):
            hit = Hit(
                source=SignalSource.alert,
                title=title,
                fingerprint=fingerprint_of(SignalSource.alert, title),
                detector=detector,
            )
            raise_hit(db, policy=app.state.policy, hit=hit)
        db.commit()
    client_log_in(client, make_user(Role.viewer))
    html = client.get("/triage").text
    assert str(escape(HOSTILE_TEXT)) in html
    assert "<script>window.__pwned" not in html
    assert '<script src="/static/triage.js' in html
    assert 'data-api="/api/v1/signals?limit=200&amp;status=new"' in html
    only_pii = client.get("/triage?detector=pii").text
    assert "plain" not in only_pii
    assert 'data-api="/api/v1/signals?limit=200&amp;status=new&amp;detector=pii"' in only_pii
    assert '<option value="pii" selected>' in only_pii
    everything = client.get("/triage?status=any").text
    assert "status=" not in everything.split('data-api="', 1)[1].split('"', 1)[0]
    assert client.get("/triage?status=bogus").status_code == 422
    client.cookies.clear()
    assert client.get("/triage", follow_redirects=False).status_code == 303
