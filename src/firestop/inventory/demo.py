"""The demo organisation's inventory: Harbourline Mutual, a fictional insurer."""

from __future__ import annotations

from importlib.resources import files

from sqlalchemy.orm import Session

from firestop.inventory.importer import import_document
from firestop.inventory.schemas import ImportResult
from firestop.policy.service import load_policy

DEMO_FILE = "demo/organisation.yaml"


def demo_document() -> bytes:
    return files("firestop.inventory").joinpath(DEMO_FILE).read_bytes()


def load_demo_inventory(db: Session) -> None:
    """Load the demo organisation into the inventory (again, harmlessly, if it is there)."""
    import_demo(db)


def import_demo(db: Session) -> ImportResult:
    return import_document(
        db,
        content=demo_document(),
        filename="organisation.yaml",
        content_type="application/yaml",
        policy=load_policy(None),
    )
