"""Helpers shared by the incident and signal tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from firestop.inventory.models import Person, System


def make_system(db: Session, slug: str = "support-bot", name: str = "Support assistant") -> System:
    system = System(slug=slug, name=name, criticality="high")
    db.add(system)
    db.commit()
    return system


def make_person(db: Session, slug: str = "ana", name: str = "Ana Ruiz") -> Person:
    person = Person(slug=slug, name=name)
    db.add(person)
    db.commit()
    return person


def open_incident(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Chatbot disclosed an order history",
        "categories": ["confidentiality"],
    }
    body.update(fields)
    response = client.post("/api/v1/incidents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
