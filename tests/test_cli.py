from __future__ import annotations

from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from firestop.cli import app as cli
from firestop.config import Settings
from firestop.policy.service import load_policy

runner = CliRunner()


def run(settings: Settings, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    full_env = {"FIRESTOP_DATABASE_URL": settings.database_url} if settings.database_url else {}
    full_env.update(env or {})
    result = runner.invoke(cli, ["--data-dir", str(settings.data_dir), *args], env=full_env)
    return result.exit_code, result.stdout, result.stderr


def test_token_create_prints_the_token_last(settings: Settings, client: TestClient) -> None:
    code, out, _ = run(settings, "token", "create", "--role", "admin", "--name", "ops")
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    assert token.startswith("fst_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"name": "ops", "role": "admin", "kind": "token"}


def test_token_create_rejects_unknown_role(settings: Settings) -> None:
    code, _, err = run(settings, "token", "create", "--role", "emperor", "--name", "x")
    assert code != 0
    assert "emperor" in err


def test_user_create_then_duplicate_is_refused(settings: Settings, client: TestClient) -> None:
    password = {"FIRESTOP_NEW_USER_PASSWORD": "a very long password"}
    code, out, _ = run(settings, "user", "create", "maria", "--role", "responder", env=password)
    assert code == 0, out
    code, _, err = run(settings, "user", "create", "maria", "--role", "viewer", env=password)
    assert code == 1 and "already exists" in err
    code, _, err = run(
        settings,
        "user",
        "create",
        "tom",
        "--role",
        "viewer",
        env={"FIRESTOP_NEW_USER_PASSWORD": "short"},
    )
    assert code == 1 and "password" in err


def test_policy_check_reports_each_error(tmp_path: Path, settings: Settings) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"version": "acme-1"}))
    code, out, _ = run(settings, "policy", "check", str(good))
    assert code == 0 and "valid" in out and "acme-1" in out

    severity = load_policy(None).severity.model_dump(mode="json")
    severity["factors"][2]["levels"][0]["points"] = "lots"
    severity["routing"].pop("SEV4")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"severity": severity}))
    code, _, err = run(settings, "policy", "check", str(bad))
    assert code == 1
    assert "severity.factors[2].levels[0].points" in err
    assert "error(s)" in err


def test_db_upgrade_on_fresh_data_dir(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["--data-dir", str(tmp_path / "fresh"), "db", "upgrade"], env={})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fresh" / "firestop.db").exists()
