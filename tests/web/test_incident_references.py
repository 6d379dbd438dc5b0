"""External references (tickets in the organisation's own process) and removing participants,
from the incident page, posted as a browser would."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from firestop.access.models import Role
from firestop.incidents import people, records
from firestop.incidents import service as incidents
from firestop.incidents.models import ExternalRef, ParticipantRole
from firestop.incidents.schemas import IncidentDetail
from firestop.incidents.views import incident_view
from tests.web.support import Login, client_log_in

pytestmark = pytest.mark.usefixtures("demo")
JIRA_URL = "https://jira.harbourline.example/browse/AIR-88"


def _incident(app: FastAPI) -> tuple[str, int]:
    """An incident with a commander and a risk specialist; returns its key and the specialist."""
    with app.state.sessionmaker() as db:
        key = incidents.create_incident(
            db,
            policy=app.state.policy,
            actor="amara",
            title="Code assistant suggests a leaked key",
            categories=["confidentiality"],
        ).key
        people.add_participant(
            db, key=key, actor="amara", role=ParticipantRole.commander, person="amara-okafor"
        )
        specialist = people.add_participant(
            db, key=key, actor="amara", role=ParticipantRole.risk, person="mei-chen"
        )
        db.commit()
        return key, specialist.id


def _view(app: FastAPI, key: str) -> IncidentDetail:
    with app.state.sessionmaker() as db:
        return incident_view(db, policy=app.state.policy, key=key)


def _kinds(app: FastAPI, key: str) -> list[str]:
    with app.state.sessionmaker() as db:
        return [e.kind for e in records.timeline(db, key)]


def _section(page: str, section_id: str) -> str:
    found = re.search(rf'<section[^>]* id="{section_id}">(.*?)</section>', page, re.S)
    assert found, f"no section {section_id}"
    return found.group(1)


def test_add_and_remove_external_references(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key, _ = _incident(app)
    responder = make_user(Role.responder)
    csrf = client_log_in(client, responder)
    added = client.post(
        f"/incidents/{key}/external-refs",
        data={"csrf_token": csrf, "system": " Jira ", "ticket": "AIR-88", "url": JIRA_URL},
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"/incidents/{key}?done=external_ref#external-refs"
    client.post(
        f"/incidents/{key}/external-refs",
        data={"csrf_token": csrf, "system": "ServiceNow", "ticket": "INC0012345", "url": ""},
    )

    page = client.get(added.headers["location"]).text
    assert "The external reference was added." in page
    refs = _section(page, "external-refs")
    assert f'<a href="{JIRA_URL}" rel="noopener noreferrer nofollow">AIR-88</a>' in refs
    assert "<strong>ServiceNow</strong> INC0012345" in refs  # no URL: text, no link
    assert refs.count("<a ") == 1
    assert f"added by {responder.username}" in refs

    jira = next(r for r in _view(app, key).external_refs if r.system == "Jira")
    removed = client.post(
        f"/incidents/{key}/external-refs/{jira.id}/remove",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert (
        removed.headers["location"] == f"/incidents/{key}?done=external_ref_removed#external-refs"
    )
    refs = _section(client.get(removed.headers["location"]).text, "external-refs")
    assert JIRA_URL not in refs
    assert f"Removed: Jira AIR-88 (by {responder.username}" in refs
    active = [r.ticket for r in _view(app, key).external_refs if r.removed_at is None]
    assert active == ["INC0012345"]
    assert _kinds(app, key)[-3:] == [
        "external_ref.added",
        "external_ref.added",
        "external_ref.removed",
    ]


def test_only_web_addresses_become_links(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key, _ = _incident(app)
    csrf = client_log_in(client, make_user(Role.responder))
    refused = client.post(
        f"/incidents/{key}/external-refs",
        data={"csrf_token": csrf, "system": "Jira", "ticket": "X-1", "url": "javascript:alert(1)"},
    )
    assert refused.status_code == 422
    assert "the URL is not valid" in refused.text
    assert "use an http(s) URL" in refused.text
    assert _view(app, key).external_refs == []

    # A reference stored some other way (an old import, a database edit) is still shown inert.
    with app.state.sessionmaker() as db:
        incident = records.get_incident(db, key)
        db.add(
            ExternalRef(
                incident=incident,
                system="Jira",
                ticket="X-2",
                url="javascript:alert(2)",
                added_by="x",
            )
        )
        db.commit()
    refs = _section(client.get(f"/incidents/{key}").text, "external-refs")
    assert "<a " not in refs
    assert 'href="javascript' not in refs
    assert "javascript:alert(2)" in refs  # shown as text


def test_external_reference_errors_are_pages(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key, _ = _incident(app)
    csrf = client_log_in(client, make_user(Role.responder))
    blank = client.post(
        f"/incidents/{key}/external-refs",
        data={"csrf_token": csrf, "system": "Jira", "ticket": "  "},
    )
    assert blank.status_code == 422
    assert "ticket is required" in blank.text
    data = {"csrf_token": csrf, "system": "Jira", "ticket": "AIR-1"}
    client.post(f"/incidents/{key}/external-refs", data=data)
    twice = client.post(f"/incidents/{key}/external-refs", data=data)
    assert twice.status_code == 409
    assert f"{key} already references Jira AIR-1" in twice.text
    unknown = client.post(f"/incidents/{key}/external-refs/999/remove", data={"csrf_token": csrf})
    assert unknown.status_code == 404
    assert f"{key} has no external reference 999" in unknown.text


def test_remove_a_participant_with_a_reason(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key, specialist = _incident(app)
    responder = make_user(Role.responder)
    csrf = client_log_in(client, responder)
    page = client.get(f"/incidents/{key}").text
    assert f'action="/incidents/{key}/participants/{specialist}/remove"' in page

    response = client.post(
        f"/incidents/{key}/participants/{specialist}/remove",
        data={"csrf_token": csrf, "reason": "  Handed over to <b>Sofia</b>  "},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/incidents/{key}?done=participant_removed#participants"
    removed = next(p for p in _view(app, key).participants if p.id == specialist)
    assert not removed.active
    assert (removed.removed_by, removed.removal_reason) == (
        responder.username,
        "Handed over to <b>Sofia</b>",
    )
    with app.state.sessionmaker() as db:
        event = records.timeline(db, key)[-1]
    assert (event.kind, event.entity_id, event.note) == (
        "participant.removed",
        specialist,
        "Handed over to <b>Sofia</b>",
    )

    page = client.get(response.headers["location"]).text
    assert "The participant was removed." in page
    participants = _section(page, "participants")
    assert f'participant-{specialist}"' not in participants  # no longer in the table
    assert "Former: Mei Chen (risk, removed by" in participants
    assert "“Handed over to &lt;b&gt;Sofia&lt;/b&gt;”" in participants

    again = client.post(
        f"/incidents/{key}/participants/{specialist}/remove", data={"csrf_token": csrf}
    )
    assert again.status_code == 409
    assert "Mei Chen was already removed" in again.text


def test_viewers_get_no_forms_and_may_not_post(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key, specialist = _incident(app)
    with app.state.sessionmaker() as db:
        ref = people.add_external_ref(db, key=key, actor="amara", system="Jira", ticket="AIR-9")
        db.commit()
        ref_id = ref.id
    csrf = client_log_in(client, make_user(Role.viewer))
    page = client.get(f"/incidents/{key}").text
    assert "/external-refs" not in page
    assert "/remove" not in page
    assert "AIR-9" in page  # they still see the reference

    posts = {
        f"/incidents/{key}/external-refs": {"system": "Jira", "ticket": "AIR-10"},
        f"/incidents/{key}/external-refs/{ref_id}/remove": {},
        f"/incidents/{key}/participants/{specialist}/remove": {"reason": "no"},
    }
    for action, data in posts.items():
        refused = client.post(action, data={**data, "csrf_token": csrf})
        assert refused.status_code == 403, action
        assert "lacks the &#39;incident:write&#39; permission" in refused.text
    detail = _view(app, key)
    assert [(r.ticket, r.removed_at) for r in detail.external_refs] == [("AIR-9", None)]
    assert all(p.active for p in detail.participants)


def test_posts_without_the_csrf_token_are_refused(
    app: FastAPI, client: TestClient, make_user: Callable[[Role], Login]
) -> None:
    key, specialist = _incident(app)
    with app.state.sessionmaker() as db:
        ref_id = people.add_external_ref(
            db, key=key, actor="amara", system="Jira", ticket="AIR-9"
        ).id
        db.commit()
    client_log_in(client, make_user(Role.responder))
    posts = {
        f"/incidents/{key}/external-refs": {"system": "Jira", "ticket": "AIR-10"},
        f"/incidents/{key}/external-refs/{ref_id}/remove": {},
        f"/incidents/{key}/participants/{specialist}/remove": {"reason": "no"},
    }
    for action, data in posts.items():
        refused = client.post(action, data=data)
        assert refused.status_code == 403, action
        assert "CSRF" in refused.text
    detail = _view(app, key)
    assert [(r.ticket, r.removed_at) for r in detail.external_refs] == [("AIR-9", None)]
    assert all(p.active for p in detail.participants)
