"""Records of other areas that point at the inventory also block deletion, with a 409."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from firestop.errors import FirestopError
from firestop.inventory import service
from firestop.inventory.models import Criticality
from firestop.inventory.schemas import SystemIn


def test_a_reference_from_outside_the_inventory_is_a_conflict(db: Session) -> None:
    system = service.create_system(
        db, entry=SystemIn(slug="bot", name="Bot", criticality=Criticality.low)
    )
    db.execute(
        text(
            "CREATE TABLE outside_record (id INTEGER PRIMARY KEY, "
            "system_id INTEGER NOT NULL REFERENCES systems (id))"
        )
    )
    try:
        db.execute(
            text("INSERT INTO outside_record (id, system_id) VALUES (1, :s)"), {"s": system.id}
        )
        with pytest.raises(FirestopError) as caught:
            service.delete_system(db, slug="bot")
        assert caught.value.status == 409
        assert "outside the inventory" in caught.value.detail
    finally:
        db.rollback()
        db.execute(text("DROP TABLE IF EXISTS outside_record"))
        db.commit()
