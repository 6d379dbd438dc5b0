"""Demo inventory (placeholder until the inventory area lands)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def load_demo_inventory(db: Session) -> None:
    """Load the demo organisation into the inventory."""
