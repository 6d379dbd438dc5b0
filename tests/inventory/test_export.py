"""Export writes Firestop YAML that imports back to exactly the same inventory."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from firestop.db import make_engine
from firestop.inventory import service
from firestop.inventory.exporter import dump_yaml
from firestop.inventory.formats import parse
from firestop.inventory.models import Classification, Criticality, Decision, ResponseRole
from firestop.inventory.schemas import SystemIn
from firestop.models import Base
from firestop.policy.service import load_policy
from tests.inventory.samples import BOM_17, SMALL

API = "/api/v1/inventory"
POLICY = load_policy(None)


def _import(db: Session, text: str | bytes) -> Any:
    content = text.encode() if isinstance(text, str) else text
    return service.import_document(
        db, content=content, filename=None, content_type=None, policy=POLICY
    )


def test_export_over_http_reimports_to_the_same_state(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    headers = {**auth("admin"), "Content-Type": "application/yaml"}
    client.post(f"{API}/import", content=SMALL, headers=headers)
    client.post(f"{API}/import", content=BOM_17.read_bytes(), headers=headers)
    exported = client.get(f"{API}/export", headers=headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/yaml")
    assert "attachment" in exported.headers["content-disposition"]
    document = yaml.safe_load(exported.text)
    assert [s["slug"] for s in document["systems"]] == [
        "coder",
        "support-bot",
        "support-triage-service",
    ]
    assert document["assignments"][0] == {"role": "incident_commander", "person": "amara"}
    again = client.post(f"{API}/import", content=exported.text, headers=headers).json()
    assert sum(again[k]["created"] + again[k]["updated"] for k in ("systems", "people")) == 0
    assert again["authority"]["unchanged"] == 3


def test_export_into_an_empty_inventory_is_identical(db: Session) -> None:
    _import(db, SMALL)
    first = service.export_yaml(db)
    assert "manual_process: |-\n" in first  # multi-line text stays readable
    with fresh_session() as other:
        result = _import(other, first)
        assert result.systems.created == 2 and result.authority.created == 3
        assert service.export_yaml(other) == first


@cache
def _engine() -> Engine:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    return engine


@contextmanager
def fresh_session() -> Iterator[Session]:
    """An empty in-memory inventory, emptied again afterwards."""
    session = Session(_engine())
    try:
        yield session
    finally:
        session.rollback()
        session.close()


slugs = st.from_regex(r"[a-z0-9][a-z0-9-]{0,11}", fullmatch=True)
# Anything a person might type, including what YAML would otherwise read as another type.
texts = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["yes", "no", "null", "~", "1.10", "0x1F", "2026-01-01", "- a", "#x", "a: b"]),
)
names = texts.filter(lambda t: 0 < len(t.strip()) <= 200)


@settings(max_examples=150)
@given(st.dictionaries(texts, st.lists(texts, max_size=3) | texts | st.none(), max_size=5))
def test_yaml_output_reads_back_exactly(document: dict[str, Any]) -> None:
    text = dump_yaml(document)
    assert parse(text.encode(), filename=None, content_type="application/yaml").data == document


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    team_slugs = draw(st.lists(slugs, unique=True, max_size=3))
    person_slugs = draw(st.lists(slugs, unique=True, min_size=1, max_size=4))
    vendor_slugs = draw(st.lists(slugs, unique=True, max_size=3))
    system_slugs = draw(st.lists(slugs, unique=True, min_size=1, max_size=3))
    maybe_team = st.none() | st.sampled_from(team_slugs) if team_slugs else st.none()
    teams = [{"slug": s, "name": draw(names), "contact": draw(texts)} for s in team_slugs]
    people = [
        {"slug": s, "name": draw(names), "team": draw(maybe_team), "title": draw(texts)}
        for s in person_slugs
    ]
    vendors = [
        {
            "slug": s,
            "name": draw(names),
            "escalation_route": draw(st.lists(texts, max_size=3)),
            "contacts": [{"name": draw(names), "role": draw(texts)}],
            "notify_within_hours": draw(st.none() | st.integers(0, 8760)),
        }
        for s in vendor_slugs
    ]
    systems = []
    for slug in system_slugs:
        systems.append(
            {
                "slug": slug,
                "name": draw(names),
                "description": draw(texts),
                "owner": draw(st.none() | st.sampled_from(person_slugs)),
                "criticality": draw(st.sampled_from(list(Criticality))).value,
                "models": draw(
                    st.lists(
                        st.fixed_dictionaries(
                            {"name": names, "version": texts, "approved": st.booleans()}
                        ),
                        max_size=3,
                        unique_by=lambda m: (m["name"].strip(), m["version"].strip()),
                    )
                ),
                "data_sources": draw(
                    st.lists(
                        st.fixed_dictionaries(
                            {
                                "name": names,
                                "classification": st.sampled_from(list(Classification)).map(str),
                            }
                        ),
                        max_size=3,
                        unique_by=lambda d: d["name"].strip(),
                    )
                ),
                "tools": draw(
                    st.lists(
                        st.fixed_dictionaries({"name": names, "destructive": st.booleans()}),
                        max_size=3,
                        unique_by=lambda t: t["name"].strip(),
                    )
                ),
                "vendors": draw(st.lists(st.sampled_from(vendor_slugs), unique=True))
                if vendor_slugs
                else [],
                "approved_uses": draw(st.lists(texts, max_size=2)),
                "fallback": {"capacity": draw(texts), "what_stops": draw(texts)},
            }
        )
    assignments = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "role": st.sampled_from(list(ResponseRole)).map(str),
                    "person": st.sampled_from(person_slugs),
                    "system": st.none() | st.sampled_from(system_slugs),
                }
            ),
            max_size=4,
            unique_by=lambda a: (a["role"], a["person"], a["system"]),
        )
    )
    authority = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "action": st.sampled_from([a.id for a in POLICY.actions]),
                    "system": st.sampled_from(system_slugs),
                    "decision": st.just(Decision.pre_authorized.value),
                    "invokers": st.just(["incident_commander"]),
                }
            ),
            max_size=3,
            unique_by=lambda r: (r["action"], r["system"]),
        )
    )
    return {
        "teams": teams,
        "people": people,
        "vendors": vendors,
        "systems": systems,
        "assignments": assignments,
        "authority": authority,
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(documents())
def test_any_inventory_survives_export_and_reimport(document: dict[str, Any]) -> None:
    source = json.dumps(document)
    with fresh_session() as db:
        _import(db, source)
        exported = service.export_yaml(db)
        expected = sorted(
            (SystemIn.model_validate(s).model_dump(mode="json") for s in document["systems"]),
            key=lambda s: s["slug"],
        )
        stored = [SystemIn.model_validate(s) for s in yaml.safe_load(exported)["systems"]]
        assert [s.model_dump(mode="json") for s in stored] == expected
        again = _import(db, exported)
        assert again.created == 0 and again.updated == 0
    with fresh_session() as other:
        _import(other, exported)
        assert service.export_yaml(other) == exported
