"""``firestop incident list`` and ``firestop incident show``."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from rich.console import Console
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from firestop import cli
from firestop.cli import app as cli_app
from firestop.config import Settings
from firestop.incidents import service
from firestop.incidents.models import IncidentStatus
from firestop.incidents.schemas import IncidentPatch
from firestop.incidents.status import change_status

HOSTILE_TITLE = "[bold red]Boom[/] \x1b[2J cleared? <script>x</script>"


def _run(settings: Settings, *args: str) -> Result:
    env = {"FIRESTOP_DATABASE_URL": settings.database_url} if settings.database_url else {}
    return CliRunner().invoke(
        cli_app, ["--data-dir", str(settings.data_dir), "incident", *args], env=env
    )


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wide enough that no table cell wraps, whatever terminal runs the tests."""
    monkeypatch.setattr(cli, "out", Console(width=250, highlight=False))


def _seed(db: Session, app: FastAPI) -> tuple[str, str]:
    policy = app.state.policy
    hostile = service.create_incident(
        db,
        policy=policy,
        actor="maria",
        title=HOSTILE_TITLE,
        categories=["harmful_output"],
        factors={"impact": "severe"},
    )
    service.update_incident(
        db,
        policy=policy,
        key=hostile.key,
        actor="maria",
        patch=IncidentPatch(what_happened="Line one\n\x07[link=https://evil.example]click[/link]"),
    )
    closed = service.create_incident(
        db, policy=policy, actor="maria", title="Old one", categories=["availability"]
    )
    change_status(
        db,
        key=closed.key,
        actor="maria",
        status=IncidentStatus.closed,
        outcome="not_an_incident",
        reason="expected",
    )
    db.commit()
    return hostile.key, closed.key


def test_list_shows_open_incidents_and_keeps_markup_literal(
    settings: Settings, db: Session, app: FastAPI
) -> None:
    hostile, closed = _seed(db, app)
    result = _run(settings, "list")
    assert result.exit_code == 0, result.output
    assert hostile in result.output
    assert closed not in result.output
    assert "SEV1" in result.output
    assert "[bold red]Boom[/]" in result.output  # shown, not interpreted
    assert "\x1b" not in result.output and "\\x1b[2J" in result.output

    everything = _run(settings, "list", "--all")
    assert closed in everything.output and "not_an_incident" in everything.output
    assert hostile not in _run(settings, "list", "--severity", "SEV4").output


def test_show_prints_the_incident_safely(settings: Settings, db: Session, app: FastAPI) -> None:
    hostile, _ = _seed(db, app)
    result = _run(settings, "show", hostile.lower())
    assert result.exit_code == 0, result.output
    out = result.output
    assert hostile in out
    assert "[bold red]Boom[/]" in out
    assert "[link=https://evil.example]click[/link]" in out
    assert "\x1b" not in out and "\x07" not in out and "\\x07" in out
    assert "SEV1" in out and "incident_team" in out
    assert "claim" in out and "hypothesis" in out
    assert "incident.created" in out and "field.changed" in out
    assert "Require human approval" in out  # a suggested action


def test_show_unknown_key_fails_cleanly(settings: Settings) -> None:
    result = _run(settings, "show", "AI-1999-0001")
    assert result.exit_code == 1
    assert "no incident" in result.output


def test_list_with_nothing(settings: Settings) -> None:
    result = _run(settings, "list")
    assert result.exit_code == 0
    assert "no incidents" in result.output
