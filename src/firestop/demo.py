"""The demo organisation loaded by ``make run`` on first start."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.access import service as access
from firestop.access.models import Role, User

DEMO_USER = "admin"


@dataclass
class DemoLogin:
    username: str
    password: str


def ensure_demo(db: Session, *, data_dir: Path) -> DemoLogin:
    """Create the demo admin and organisation once; later starts reuse them."""
    secret_file = data_dir / "demo-login.txt"
    if db.scalar(select(User.id).where(User.username == DEMO_USER)) is None:
        password = secrets.token_urlsafe(12)
        access.create_user(
            db,
            username=DEMO_USER,
            password=password,
            role=Role.admin,
            display_name="Demo administrator",
        )
        secret_file.write_text(password + "\n", "utf-8")
        secret_file.chmod(0o600)
        from firestop.inventory.demo import load_demo_inventory

        load_demo_inventory(db)
    password = secret_file.read_text("utf-8").strip() if secret_file.exists() else "(as set)"
    return DemoLogin(DEMO_USER, password)
