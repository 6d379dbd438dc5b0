from __future__ import annotations

from sqlalchemy.orm import Session

from firestop.access import service as access
from firestop.config import Settings
from firestop.demo import DEMO_USER, ensure_demo
from firestop.incidents import service as incidents
from firestop.inventory import service as inventory
from firestop.signals import service as signals
from firestop.signals.models import SignalStatus


def test_demo_loads_once_with_a_working_login(db: Session, settings: Settings) -> None:
    login = ensure_demo(db, data_dir=settings.data_dir)
    db.commit()
    assert login.username == DEMO_USER and len(login.password) >= 12
    assert access.authenticate(db, username=login.username, password=login.password)
    criticalities = {s.criticality for s in inventory.list_systems(db)}
    assert {"low", "medium", "high", "critical"} <= criticalities
    open_incidents = incidents.list_incidents(db, open_only=True)
    assert len(open_incidents) == 1 and open_incidents[0].status == "investigating"
    assert len(signals.list_signals(db, status=SignalStatus.new)) == 2

    again = ensure_demo(db, data_dir=settings.data_dir)
    db.commit()
    assert again.password == login.password
    assert len(incidents.list_incidents(db)) == 1
    assert len(signals.list_signals(db)) == 2
