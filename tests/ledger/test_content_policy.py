"""Per-system content policy (raw, redacted, hashed), retention and incident holds."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.ledger import service
from firestop.ledger.models import Interaction
from tests.ledger.support import add_system, post, record

Auth = Callable[[str], dict[str, str]]
SECRET_PROMPT = "My card is 4111 1111 1111 1111 and my mail is jane.doe@example.org, help"


def stored(db: Session, client_id: str) -> Interaction:
    db.expire_all()
    row = db.scalar(select(Interaction).where(Interaction.client_id == client_id))
    assert row is not None
    return row


def test_hashed_systems_keep_only_digests(client: TestClient, auth: Auth, db: Session) -> None:
    add_system(client, auth, ledger={"content": "hashed"})
    prompt = [{"role": "user", "content": SECRET_PROMPT}]
    post(client, auth("telemetry"), [record(1, messages=prompt, output="Done.")])
    row = stored(db, "rec-1")
    text = SECRET_PROMPT.encode()
    assert row.content["messages"][0]["content"] == "sha256:" + hashlib.sha256(text).hexdigest()
    assert row.content["output"] == "sha256:" + hashlib.sha256(b"Done.").hexdigest()
    assert "4111" not in str(row.content) and "jane" not in str(row.content)
    assert row.content_mode == "hashed"


def test_redacted_systems_never_store_the_personal_data(
    client: TestClient, auth: Auth, db: Session
) -> None:
    add_system(client, auth, ledger={"content": "redacted"})
    prompt = [{"role": "user", "content": SECRET_PROMPT}]
    post(client, auth("telemetry"), [record(1, messages=prompt)])
    row = stored(db, "rec-1")
    kept = row.content["messages"][0]["content"]
    assert "4111" not in kept and "jane.doe" not in kept
    assert kept.startswith("My card is [pii.") and kept.endswith(", help")
    # The digest of what was actually sent is kept: it can be proven later without the text.
    assert row.content_sha256 == service.digest(
        {
            "instructions": "",
            "messages": prompt,
            "output": "It ships tomorrow.",
            "retrieval": [],
            "tool_calls": [],
        }
    )


def test_raw_is_the_default(client: TestClient, auth: Auth, db: Session) -> None:
    add_system(client, auth)
    post(client, auth("telemetry"), [record(1)])
    assert stored(db, "rec-1").content["messages"][0]["content"] == "Where is my order 1001?"


def test_retention_hashes_old_content_but_not_what_an_incident_holds(
    client: TestClient, auth: Auth, db: Session
) -> None:
    add_system(client, auth, ledger={"retention_days": 30})
    add_system(client, auth, "dropper", ledger={"retention_days": 30, "after_retention": "drop"})
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    recent = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    post(
        client,
        auth("telemetry"),
        [
            record(1, started_at=old),
            record(2, started_at=old),
            record(3, started_at=recent),
            record(4, system="dropper", started_at=old),
        ],
    )
    incident = client.post(
        "/api/v1/incidents",
        json={"title": "Kept", "categories": ["confidentiality"]},
        headers=auth("responder"),
    ).json()
    from firestop.incidents.models import Incident

    incident_id = db.scalar(select(Incident.id).where(Incident.key == incident["key"]))
    assert incident_id is not None
    service.hold(
        db, incident_id=incident_id, interaction_ids=[stored(db, "rec-2").id], actor="tests"
    )
    result = service.apply_retention(db)
    db.commit()
    assert (result.hashed, result.dropped, result.kept_for_incidents) == (1, 1, 1)
    first, held, fresh, dropped = (stored(db, f"rec-{i}") for i in (1, 2, 3, 4))
    assert first.content["output"].startswith("sha256:") and first.content_reduced_at
    assert held.content["output"] == "It ships tomorrow." and held.content_reduced_at is None
    assert fresh.content["output"] == "It ships tomorrow."
    assert dropped.content == {} and dropped.content_reduced_at is not None
    # Applying it again changes nothing more.
    again = service.apply_retention(db)
    db.commit()
    assert (again.hashed, again.dropped) == (0, 0)
    view = client.get(f"/api/v1/interactions/{held.id}", headers=auth("viewer")).json()
    assert view["held"] is True
