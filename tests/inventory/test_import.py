"""Importing Firestop files: idempotence, places in errors, all-or-nothing, limits, formats."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from firestop.config import Settings
from firestop.errors import FirestopError
from firestop.inventory import service
from firestop.policy.service import load_policy
from tests.inventory.samples import SMALL

API = "/api/v1/inventory"
POLICY = load_policy(None)


def _import(db: Session, text: str | bytes, content_type: str | None = "application/yaml") -> Any:
    content = text.encode() if isinstance(text, str) else text
    return service.import_document(
        db, content=content, filename=None, content_type=content_type, policy=POLICY
    )


def _errors(db: Session, text: str | bytes, content_type: str | None = None) -> dict[str, str]:
    with pytest.raises(FirestopError) as caught:
        _import(db, text, content_type)
    assert caught.value.status == 422
    return {e.loc: e.msg for e in caught.value.errors}


def test_import_twice_changes_nothing_the_second_time(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    headers = {**auth("admin"), "Content-Type": "application/yaml"}
    first = client.post(f"{API}/import", content=SMALL, headers=headers)
    assert first.status_code == 200, first.text
    counts = first.json()
    assert counts["format"] == "firestop"
    assert counts["systems"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert counts["people"]["created"] == 2
    assert counts["assignments"]["created"] == 2
    assert counts["authority"]["created"] == 3
    before = client.get(f"{API}/systems/support-bot", headers=headers).json()

    second = client.post(f"{API}/import", content=SMALL, headers=headers).json()
    for kind in ("teams", "people", "vendors", "systems", "assignments", "authority"):
        assert second[kind]["created"] == 0, kind
        assert second[kind]["updated"] == 0, kind
    assert second["systems"]["unchanged"] == 2
    after = client.get(f"{API}/systems/support-bot", headers=headers).json()
    assert after == before  # not even updated_at moved


def test_import_stores_every_field(db: Session) -> None:
    _import(db, SMALL)
    system = service.get_system(db, "support-bot")
    assert system.owner is not None and system.owner.slug == "lena"
    assert [(m.version, m.approved) for m in system.models] == [
        ("2025-09", True),
        ("2026-01", False),
    ]
    assert [m.name for m in system.approved_models] == ["nimbus-large"]
    refund = system.tool("issue_refund")
    assert refund is not None and refund.destructive and refund.kind == "tool"
    assert system.data_sources[0].classification == "public"
    assert [v.slug for v in system.vendors] == ["nimbus"]
    assert system.fallback_manual_process.splitlines() == [
        "Route chats to the phone queue.",
        "Agents raise refunds by hand.",
    ]
    assert system.risk_assessment_url == "https://grc.example/RA-1"
    vendor = service.get_vendor(db, "nimbus")
    assert vendor.escalation_route[1] == "Call the hotline"
    assert vendor.contacts[0]["phone"] == "+44 20 7946 0311"


def test_changed_entry_is_updated_and_children_replaced(db: Session) -> None:
    _import(db, SMALL)
    changed = SMALL.replace(
        "destructive: true, description: Refunds up to 250", "destructive: false"
    )
    result = _import(db, changed)
    assert result.systems.updated == 1 and result.systems.unchanged == 1
    refund = service.get_system(db, "support-bot").tool("issue_refund")
    assert refund is not None and not refund.destructive and refund.description == ""


def test_errors_name_their_place_with_line_numbers(db: Session) -> None:
    text = """\
people:
  - {slug: amara, name: Amara}
  - {slug: Bad_Slug, name: B, email: not-an-address}
systems:
  - slug: bot
    name: Bot
    criticality: high
    owner: nobody
  - slug: bot
    name: Bot again
    criticality: low
    models:
      - {name: m, version: 1.10}
      - {provider: p}
authority:
  - {action: launch_missiles, criticality: low, decision: pre_authorized, invokers: [admin]}
  - {action: suspend_agent, system: bot, decision: needs_approval}
assignments:
  - {role: incident_commander, person: ghost}
extra: 1
"""
    errors = _errors(db, text)
    assert set(errors) == {
        "people[1].slug",
        "people[1].email",
        "systems[0].owner",
        "systems[1].models[0].version",
        "systems[1].models[1].name",
        "systems[1].slug",
        "authority[0].action",
        "authority[1]",
        "assignments[0].person",
        "extra",
    }
    assert errors["systems[1].models[1].name"] == "Field required (line 14, column 9)"
    assert "quotes" in errors["systems[1].models[0].version"]
    assert "(line 13," in errors["systems[1].models[0].version"]
    assert errors["systems[1].slug"] == "repeats systems[0] (line 9, column 5)"
    assert "unknown action 'launch_missiles'" in errors["authority[0].action"]
    assert "approver" in errors["authority[1]"]
    assert errors["systems[0].owner"].startswith("no person 'nobody'")
    assert "line 20, column 1" in errors["extra"]


def test_a_reference_to_a_broken_entry_is_not_a_second_error(db: Session) -> None:
    text = """\
people:
  - {slug: lena, name: Lena, email: broken}
systems:
  - {slug: bot, name: Bot, criticality: high, owner: lena}
"""
    assert set(_errors(db, text)) == {"people[0].email"}


def test_yaml_syntax_error_gives_line_and_column(db: Session) -> None:
    errors = _errors(db, "systems:\n  - slug: a\n   name: x\n")
    [(where, msg)] = errors.items()
    assert where == "line 3, column 4"
    assert "expected" in msg


def test_duplicate_yaml_keys_are_refused(db: Session) -> None:
    errors = _errors(db, "systems: []\nteams: []\nsystems: []\n")
    assert errors == {"line 3, column 1": "duplicate key 'systems'"}


def test_json_syntax_error_gives_line_and_column(db: Session) -> None:
    errors = _errors(db, '{"systems": [\n  {"slug": "a",}\n]}', "application/json")
    assert list(errors) == ["line 2, column 16"]


def test_alias_bombs_are_refused(db: Session) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("systems: *a7")
    with pytest.raises(FirestopError) as caught:
        _import(db, "\n".join(lines))
    assert "too many values" in caught.value.detail


def test_recursive_alias_is_refused(db: Session) -> None:
    with pytest.raises(FirestopError) as caught:
        _import(db, "systems: &s [*s]\n")
    assert caught.value.status == 422


def test_other_shapes_are_refused(db: Session) -> None:
    assert list(_errors(db, "- a\n- b\n")) == ["(top level)"]
    assert list(_errors(db, "")) == ["(file)"]
    assert list(_errors(db, "version: 2\n")) == ["version"]
    assert list(_errors(db, b"\xff\xfe systems")) == ["(file)"]
    assert list(_errors(db, "systems: !!python/object:os.system {}\n")) == ["line 1, column 10"]


def test_one_bad_entry_leaves_the_database_unchanged(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    headers = {**auth("admin"), "Content-Type": "application/yaml"}
    assert client.post(f"{API}/import", content=SMALL, headers=headers).status_code == 200
    before = client.get(f"{API}/export", headers=headers).text
    document = yaml.safe_load(SMALL)
    document["teams"].append({"slug": "new-team", "name": "New"})
    document["systems"][0]["description"] = "changed"
    document["systems"].append({"slug": "fine", "name": "Fine", "criticality": "low"})
    document["systems"].append({"slug": "broken", "name": "Broken", "criticality": "huge"})
    response = client.post(f"{API}/import", content=yaml.safe_dump(document), headers=headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"][0]["loc"] == "systems[3].criticality"
    assert "nothing was imported" in body["detail"]
    assert client.get(f"{API}/export", headers=headers).text == before
    assert client.get(f"{API}/teams/new-team", headers=headers).status_code == 404


def test_upload_size_is_limited(
    app: Any, client: TestClient, auth: Callable[[str], dict[str, str]], settings: Settings
) -> None:
    app.state.settings = settings.model_copy(update={"import_max_bytes": 200})
    headers = {**auth("admin"), "Content-Type": "application/yaml"}
    response = client.post(f"{API}/import", content=SMALL, headers=headers)
    assert response.status_code == 413
    assert response.json()["title"] == "Content too large"

    def chunks() -> Any:  # no Content-Length: the limit must hold while streaming
        for _ in range(10):
            yield b"# padding padding padding padding padding\n"

    streamed = client.post(f"{API}/import", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    small = client.post(f"{API}/import", content="teams: []\n", headers=headers)
    assert small.status_code == 200


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/yaml", SMALL),
        ("application/x-yaml", SMALL),
        ("text/yaml; charset=utf-8", SMALL),
        ("application/json", json.dumps(yaml.safe_load(SMALL))),
        (None, SMALL),
        ("application/octet-stream", json.dumps(yaml.safe_load(SMALL))),
        ("text/plain", SMALL),
    ],
)
def test_content_types_are_accepted_or_sniffed(
    client: TestClient,
    auth: Callable[[str], dict[str, str]],
    content_type: str | None,
    body: str,
) -> None:
    headers = auth("admin")
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = client.post(f"{API}/import", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["systems"]["created"] == 2


def test_unsupported_media_types_are_415(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    headers = auth("admin")
    xml = client.post(
        f"{API}/import",
        content="<bom/>",
        headers={**headers, "Content-Type": "application/vnd.cyclonedx+xml"},
    )
    assert xml.status_code == 415
    form = client.post(f"{API}/import", files={"file": ("x.yaml", SMALL)}, headers=headers)
    assert form.status_code == 415
    assert "request body" in form.json()["detail"]


def test_integers_too_long_to_read_are_refused_not_crashed(db: Session) -> None:
    digits = "1" * 5000
    assert list(_errors(db, f'{{"version": {digits}}}', "application/json")) == ["(file)"]
    assert list(_errors(db, f"version: {digits}\n", "application/yaml")) == ["(file)"]


def test_bom_fields_longer_than_the_inventory_takes_are_named(db: Session) -> None:
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {
            "component": {"type": "application", "name": "Long", "description": "d" * 30_000}
        },
        "components": [{"type": "machine-learning-model", "name": "m", "version": "1"}],
    }
    errors = _errors(db, json.dumps(bom), "application/vnd.cyclonedx+json")
    assert list(errors) == ["system 'long'.description"]
    assert service.list_systems(db) == []
