"""The demo organisation loaded by ``make run`` on first start.

Besides the inventory (Harbourline Mutual, a fictional insurer), the demo opens one incident
and leaves two reports in the triage queue, so a first look shows Firestop at work.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from firestop.access import service as access
from firestop.access.models import Role, User
from firestop.db import utcnow
from firestop.incidents import claims, people
from firestop.incidents import service as incidents
from firestop.incidents.models import ClaimKind, Continuing, IncidentStatus, ParticipantRole
from firestop.incidents.schemas import SystemVersion
from firestop.incidents.status import change_status
from firestop.inventory.demo import load_demo_inventory
from firestop.policy.schemas import Policy
from firestop.policy.service import load_policy
from firestop.signals import service as signals
from firestop.signals.models import ReportChannel

DEMO_USER = "admin"
DEMO_ACTOR = "demo"


@dataclass
class DemoLogin:
    username: str
    password: str


def ensure_demo(db: Session, *, data_dir: Path, policy: Policy | None = None) -> DemoLogin:
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
        load_demo_inventory(db)
        _demo_activity(db, policy or load_policy(None))
    password = secret_file.read_text("utf-8").strip() if secret_file.exists() else "(as set)"
    return DemoLogin(DEMO_USER, password)


def _demo_activity(db: Session, policy: Policy) -> None:
    now = utcnow()
    incident = incidents.create_incident(
        db,
        policy=policy,
        actor=DEMO_ACTOR,
        title="Support assistant issued refunds after instructions hidden in a product review",
        categories=["insecure_behaviour", "confidentiality"],
        summary="A retrieved product review carried hidden instructions; the assistant followed "
        "them and issued refunds without the usual checks.",
        what_happened="Three refunds were issued by the support assistant's refund tool within "
        "ten minutes to accounts that had not asked for them.",
        began_at=now - timedelta(hours=5),
        detected_at=now - timedelta(hours=3),
        continuing=Continuing.unknown,
        systems=[SystemVersion(system="support-assistant", model_version="2025-09")],
        factors={
            "impact": "moderate",
            "affected_population": "individual",
            "reversibility": "costly",
            "data_sensitivity": "confidential",
            "containability": "controllable",
        },
    )
    key = incident.key
    people.add_participant(
        db,
        key=key,
        actor=DEMO_ACTOR,
        role=ParticipantRole.commander,
        person="amara-okafor",
    )
    change_status(db, key=key, actor=DEMO_ACTOR, status=IncidentStatus.investigating)
    claims.add_claim(
        db,
        policy=policy,
        key=key,
        actor=DEMO_ACTOR,
        kind=ClaimKind.finding,
        statement="The refund tool was called three times in one session without human approval.",
    )
    signals.submit_report(
        db,
        text="The chat assistant told me my claim was already rejected, but nobody has looked "
        "at it yet. It quoted a case number I have never seen.",
        system="claims-triage",
        interaction_ref=None,
        contact=None,
        channel=ReportChannel.web,
        submitted_by=None,
    )
    signals.submit_report(
        db,
        text="A developer pasted a customer export with names and emails into the coding "
        "assistant to 'clean it up'.",
        system="code-assistant",
        interaction_ref=None,
        contact="helpdesk@harbourline.example",
        channel=ReportChannel.help_desk,
        submitted_by="help desk",
    )
