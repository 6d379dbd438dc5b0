"""The signal API (D4): filters, recurrence fields, interactions and findings, snoozes,
groups, and reports linked to the interaction they are about."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.signals.models import Signal, SignalInteraction, SignalSource
from firestop.signals.pipeline import Hit, fingerprint_of, raise_hit
from tests.signals.support import make_system, record, run, use_policy

Auth = Callable[[str], dict[str, str]]


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _hit(
    title: str,
    *,
    detector: str = "alert",
    rule: str = "alert.siem",
    severity: str | None = None,
) -> Hit:
    return Hit(
        source=SignalSource.alert,
        title=title,
        fingerprint=fingerprint_of(SignalSource.alert, detector, rule, title),
        detector=detector,
        rule=rule,
        severity=severity,
    )


def _raise(app: FastAPI, hit: Hit, now: datetime | None = None) -> int:
    with app.state.sessionmaker() as db:
        outcome = raise_hit(db, policy=app.state.policy, hit=hit, now=now)
        db.commit()
        return outcome.signal.id


def _ids(client: TestClient, headers: dict[str, str], query: str = "") -> list[int]:
    response = client.get(f"/api/v1/signals?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


# --- the list -------------------------------------------------------------------------------


def test_signals_carry_their_recurrence(app: FastAPI, client: TestClient, auth: Auth) -> None:
    now = datetime.now(UTC)
    signal_id = _raise(app, _hit("Disk full", severity="SEV3"), now - timedelta(minutes=10))
    _raise(app, _hit("Disk full"), now)
    [item] = client.get("/api/v1/signals", headers=auth("viewer")).json()
    assert item["id"] == signal_id
    assert item["occurrences"] == 2
    assert item["rule"] == "alert.siem"
    assert item["detector_id"] == "alert"
    assert item["interactions"] == 0
    assert item["escalated"] is False
    assert item["snoozed"] is False
    assert item["route_rule"] is None
    assert item["snoozed_until"] is None
    first = datetime.fromisoformat(item["first_seen"])
    last = datetime.fromisoformat(item["last_seen"])
    assert last - first == timedelta(minutes=10)


def test_filters_by_detector_rule_and_escalation(
    app: FastAPI, client: TestClient, auth: Auth, db: Session
) -> None:
    email = _raise(app, _hit("mail", detector="pii", rule="pii.email"))
    card = _raise(app, _hit("card", detector="pii", rule="pii.credit_card"))
    # "_" must match itself, not any character: pii.credit_card* must not match this one.
    lookalike = _raise(app, _hit("lookalike", detector="pii", rule="pii.creditXcard"))
    alert = _raise(app, _hit("siem"))
    db.get_one(Signal, alert).escalated = True
    db.commit()
    reader = auth("viewer")
    assert sorted(_ids(client, reader, "detector=pii")) == [email, card, lookalike]
    assert _ids(client, reader, "rule=pii.email") == [email]
    assert sorted(_ids(client, reader, "rule=pii.*")) == [email, card, lookalike]
    assert _ids(client, reader, "rule=pii.credit_card*") == [card]
    assert _ids(client, reader, "rule=pii.credit_") == []
    assert _ids(client, reader, "escalated=true") == [alert]
    assert alert not in _ids(client, reader, "escalated=false")
    assert _ids(client, reader, "source=alert&detector=nope") == []


def test_time_filters_select_signals_seen_in_the_range(
    app: FastAPI, client: TestClient, auth: Auth
) -> None:
    now = datetime.now(UTC)
    long_running = _raise(app, _hit("recurring"), now - timedelta(minutes=50))
    _raise(app, _hit("recurring"), now - timedelta(minutes=5))  # seen again: last_seen moves
    old = _raise(app, _hit("once, long ago"), now - timedelta(minutes=50))
    reader = auth("viewer")
    recent = _iso(now - timedelta(minutes=10))
    assert _ids(client, reader, f"since={recent}") == [long_running]
    early = _iso(now - timedelta(minutes=40))
    assert sorted(_ids(client, reader, f"until={early}")) == sorted([long_running, old])
    window = f"since={_iso(now - timedelta(minutes=30))}&until={_iso(now - timedelta(minutes=20))}"
    # Created before the range and seen after it: it was active during it.
    assert _ids(client, reader, window) == [long_running]
    assert (
        client.get("/api/v1/signals?since=2026-01-01T00:00:00", headers=reader).status_code == 422
    )


# --- detail: interactions and findings ---------------------------------------------------------


def _ingested(app: FastAPI, db: Session, count: int) -> int:
    pipeline = use_policy(app)
    make_system(db)
    now = datetime.now(UTC)
    run(
        db,
        pipeline,
        [record(f"conv-{i}", f"mail x{i}@example.com", user=f"u{i}") for i in range(count)],
        now=now,
    )
    signal_id = db.scalar(select(Signal.id).where(Signal.detector_id == "pii"))
    assert signal_id is not None
    return signal_id


def test_detail_lists_interactions_and_findings(
    app: FastAPI, client: TestClient, auth: Auth, db: Session
) -> None:
    signal_id = _ingested(app, db, 3)
    detail = client.get(f"/api/v1/signals/{signal_id}", headers=auth("viewer")).json()
    assert detail["interactions"] == 3
    linked = detail["linked_interactions"]
    assert linked["total"] == 3
    assert {i["client_id"] for i in linked["items"]} == {"conv-0", "conv-1", "conv-2"}
    first = linked["items"][0]
    assert first["url"] == f"/api/v1/interactions/{first['id']}"
    assert first["system"] == "bot"
    assert first["user_id"] in {"u0", "u1", "u2"}
    # The link leads to the interaction, without its content.
    shown = client.get(first["url"], headers=auth("viewer")).json()
    assert shown["client_id"] == first["client_id"] and shown["content"] is None

    findings = detail["findings"]
    assert findings["total"] == 3
    finding = findings["items"][0]
    assert finding["rule"] == "pii.email"
    assert finding["path"] == "messages[0].content"
    assert (finding["start"], finding["end"]) == (5, 19)
    assert finding["excerpt"] == "mail [pii.email]"
    assert "@example.com" not in str(findings)


def test_interactions_are_paged(app: FastAPI, client: TestClient, auth: Auth, db: Session) -> None:
    signal_id = _ingested(app, db, 5)
    reader = auth("viewer")
    url = f"/api/v1/signals/{signal_id}/interactions"
    pages = [client.get(f"{url}?limit=2&offset={o}", headers=reader).json() for o in (0, 2, 4)]
    assert [p["total"] for p in pages] == [5, 5, 5]
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    ids = [i["id"] for p in pages for i in p["items"]]
    assert len(set(ids)) == 5
    findings = client.get(f"/api/v1/signals/{signal_id}/findings?limit=1", headers=reader).json()
    assert findings["total"] == 5 and len(findings["items"]) == 1
    assert client.get(f"{url}?limit=0", headers=reader).status_code == 422
    assert client.get("/api/v1/signals/9999/interactions", headers=reader).status_code == 404
    assert client.get(url, headers=auth("reporter")).status_code == 403


# --- snoozing ------------------------------------------------------------------------------


def test_snooze_hides_from_the_queue_and_is_inherited_until_lifted(
    app: FastAPI, client: TestClient, auth: Auth
) -> None:
    responder = auth("responder")
    now = datetime.now(UTC)
    first = _raise(app, _hit("Noisy check"), now - timedelta(hours=3))
    other = _raise(app, _hit("Something else"))
    response = client.post(
        f"/api/v1/signals/{first}/snooze",
        json={"minutes": 240, "reason": "known flapping check"},
        headers=responder,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["snoozed"] is True
    assert body["snoozed_by"] == "token:test-responder"
    assert body["snooze_reason"] == "known flapping check"
    until = datetime.fromisoformat(body["snoozed_until"])
    assert timedelta(minutes=239) < until - now < timedelta(minutes=241)

    assert _ids(client, responder, "status=new") == [other]
    assert _ids(client, responder, "status=new&snoozed=true") == [first]
    assert sorted(_ids(client, responder)) == sorted([first, other])  # not the queue: all

    # Past the dedup window the same problem opens a new signal, which inherits the snooze.
    later = _raise(app, _hit("Noisy check"))
    assert later != first
    assert _ids(client, responder, "status=new") == [other]
    inherited = client.get(f"/api/v1/signals/{later}", headers=responder).json()
    assert inherited["snoozed"] is True
    assert inherited["snoozed_until"] == body["snoozed_until"]
    assert inherited["snooze_reason"] == "known flapping check"

    lifted = client.post(f"/api/v1/signals/{first}/unsnooze", headers=responder)
    assert lifted.status_code == 200
    assert lifted.json()["snoozed"] is False
    assert lifted.json()["snoozed_by"] == "token:test-responder"  # the record stays
    assert sorted(_ids(client, responder, "status=new")) == sorted([first, later, other])
    # And nothing opened afterwards inherits it.
    with app.state.sessionmaker() as db:
        newest = raise_hit(
            db, policy=app.state.policy, hit=_hit("Noisy check"), now=now + timedelta(hours=2)
        ).signal
        db.commit()
        assert newest.snoozed_until is None


def test_an_escalated_signal_shows_in_the_queue_despite_a_snooze(
    app: FastAPI, client: TestClient, auth: Auth, db: Session
) -> None:
    signal_id = _raise(app, _hit("Rare error"))
    client.post(
        f"/api/v1/signals/{signal_id}/snooze",
        json={"minutes": 60, "reason": "rare"},
        headers=auth("responder"),
    )
    assert _ids(client, auth("viewer"), "status=new") == []
    db.get_one(Signal, signal_id).escalated = True
    db.commit()
    assert _ids(client, auth("viewer"), "status=new") == [signal_id]
    assert _ids(client, auth("viewer"), "status=new&snoozed=false") == []
    # Escalated, it cannot be snoozed again: it needs a decision.
    again = client.post(
        f"/api/v1/signals/{signal_id}/snooze",
        json={"minutes": 60, "reason": "still rare?"},
        headers=auth("responder"),
    )
    assert again.status_code == 409
    assert "escalated" in again.json()["detail"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"reason": "x"}, "until or minutes"),
        ({"minutes": 5, "until": "2099-01-01T00:00:00Z", "reason": "x"}, "both"),
        ({"minutes": 0, "reason": "x"}, "minutes"),
        ({"minutes": 90 * 24 * 60 + 1, "reason": "x"}, "minutes"),
        ({"until": "2020-01-01T00:00:00Z", "reason": "x"}, "past"),
        ({"until": "2099-01-01T00:00:00Z", "reason": "x"}, "too long"),
        ({"until": "2099-01-01T00:00:00", "reason": "x"}, "naive"),
        ({"minutes": 60, "reason": "   "}, "blank reason"),
        ({"minutes": 60}, "no reason"),
    ],
)
def test_snooze_bounds(
    app: FastAPI, client: TestClient, auth: Auth, body: dict[str, Any], where: str
) -> None:
    signal_id = _raise(app, _hit("x"))
    response = client.post(f"/api/v1/signals/{signal_id}/snooze", json=body, headers=auth("admin"))
    assert response.status_code == 422, where
    assert response.headers["content-type"] == "application/problem+json"


def test_snooze_until_a_time_and_who_may_snooze(
    app: FastAPI, client: TestClient, auth: Auth
) -> None:
    signal_id = _raise(app, _hit("x"))
    url = f"/api/v1/signals/{signal_id}/snooze"
    until = datetime.now(UTC) + timedelta(days=89)
    body = {"until": until.isoformat(), "reason": "quarterly job"}
    assert client.post(url, json=body).status_code == 401
    for role in ("viewer", "legal", "telemetry"):
        assert client.post(url, json=body, headers=auth(role)).status_code == 403, role
    response = client.post(url, json=body, headers=auth("responder"))
    assert response.status_code == 200
    assert datetime.fromisoformat(response.json()["snoozed_until"]) == until
    unsnooze = f"/api/v1/signals/{signal_id}/unsnooze"
    assert client.post(unsnooze, headers=auth("viewer")).status_code == 403
    assert (
        client.post("/api/v1/signals/9999/snooze", json=body, headers=auth("admin")).status_code
        == 404
    )


# --- groups --------------------------------------------------------------------------------


def test_groups_by_fingerprint(app: FastAPI, client: TestClient, auth: Auth) -> None:
    now = datetime.now(UTC)
    first = _raise(app, _hit("Disk full", severity="SEV3"), now - timedelta(hours=5))
    _raise(app, _hit("Disk full"), now - timedelta(hours=4, minutes=30))
    latest = _raise(app, _hit("Disk full"), now - timedelta(hours=1))
    other = _raise(app, _hit("mail", detector="pii", rule="pii.email"), now - timedelta(hours=2))
    assert latest != first
    reader = auth("viewer")
    response = client.get("/api/v1/signals/groups", headers=reader)
    assert response.status_code == 200, response.text
    disk, mail = response.json()  # the most recently seen group first
    assert disk["title"] == "Disk full"
    assert disk["detector_id"] == "alert" and disk["rule"] == "alert.siem"
    assert disk["signals"] == 2
    assert disk["occurrences"] == 3
    assert disk["latest_signal"] == latest
    assert disk["latest_status"] == "new"
    assert disk["snoozed_until"] is None
    assert datetime.fromisoformat(disk["first_seen"]) == now - timedelta(hours=5)
    assert datetime.fromisoformat(disk["last_seen"]) == now - timedelta(hours=1)
    assert (mail["latest_signal"], mail["signals"]) == (other, 1)

    client.post(
        f"/api/v1/signals/{latest}/snooze",
        json={"minutes": 30, "reason": "x"},
        headers=auth("responder"),
    )
    by_detector = client.get("/api/v1/signals/groups?detector=alert", headers=reader).json()
    assert [g["latest_signal"] for g in by_detector] == [latest]
    assert by_detector[0]["snoozed_until"] is not None
    queue = client.get("/api/v1/signals/groups?status=new", headers=reader).json()
    assert [g["latest_signal"] for g in queue] == [other]
    assert client.get("/api/v1/signals/groups?limit=1", headers=reader).json()[0]["title"] == (
        "Disk full"
    )
    assert client.get("/api/v1/signals/groups", headers=auth("reporter")).status_code == 403


# --- reports about an interaction ---------------------------------------------------------


def _report(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/reports", json={"text": "this answer was wrong", **body})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _links(db: Session, reference: str) -> list[tuple[str | None, str | None, str | None]]:
    db.expire_all()
    signal = db.scalars(select(Signal).where(Signal.report.has(reference=reference))).one()
    rows = db.execute(
        select(SignalInteraction.interaction_id, SignalInteraction.user_id).where(
            SignalInteraction.signal_id == signal.id
        )
    ).all()
    from firestop.ledger.models import Interaction

    out = []
    for interaction_id, user in rows:
        found = db.get_one(Interaction, interaction_id)
        out.append((found.client_id, user, signal.system.slug if signal.system else None))
    return out


def test_a_report_is_linked_to_the_interaction_it_names(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    pipeline = use_policy(app)
    make_system(db, "bot")
    make_system(db, "kiosk")
    now = datetime.now(UTC)
    run(
        db,
        pipeline,
        [
            record("turn-1", "hello", system="bot", user="alice"),
            record("shared", "hello", system="bot", user="bea"),
            record("shared", "hello", system="kiosk", user="carl"),
        ],
        now=now,
    )
    from firestop.ledger.models import Interaction

    kiosk_id = db.scalar(select(Interaction.id).where(Interaction.user_id == "carl"))

    named = _report(client, interaction_ref="turn-1", system="bot")
    unnamed = _report(client, interaction_ref="turn-1")
    within = _report(client, interaction_ref="shared", system="kiosk")
    ambiguous = _report(client, interaction_ref="shared")
    wrong_system = _report(client, interaction_ref="turn-1", system="kiosk")
    unknown_system = _report(client, interaction_ref="turn-1", system="no-such-bot")
    by_id = _report(client, interaction_ref=f" {kiosk_id} ")
    nothing = _report(client, interaction_ref="never-seen")

    assert _links(db, named["reference"]) == [("turn-1", "alice", "bot")]
    # The interaction tells the signal which system it was about.
    assert _links(db, unnamed["reference"]) == [("turn-1", "alice", "bot")]
    assert _links(db, within["reference"]) == [("shared", "carl", "kiosk")]
    assert _links(db, ambiguous["reference"]) == []
    assert _links(db, wrong_system["reference"]) == []
    assert _links(db, unknown_system["reference"]) == []
    assert _links(db, by_id["reference"]) == [("shared", "carl", "kiosk")]
    assert _links(db, nothing["reference"]) == []
    # The reporter learns nothing either way: the receipts differ only in their reference.
    shapes = {
        tuple(sorted((k, v) for k, v in r.items() if k not in ("reference", "url", "received_at")))
        for r in (named, nothing, ambiguous)
    }
    assert len(shapes) == 1
