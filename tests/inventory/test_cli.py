"""``firestop inventory import`` and ``export`` against the embedded database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from firestop.cli import app as cli
from firestop.config import Settings
from tests.inventory.samples import BOM_16, SMALL

runner = CliRunner()


def run(settings: Settings, *args: str) -> tuple[int, str, str]:
    env = {"FIRESTOP_DATABASE_URL": settings.database_url} if settings.database_url else {}
    result = runner.invoke(cli, ["--data-dir", str(settings.data_dir), *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_import_then_export_round_trip(tmp_path: Path, settings: Settings) -> None:
    source = tmp_path / "inventory.yaml"
    source.write_text(SMALL)
    code, out, err = run(settings, "inventory", "import", str(source))
    assert code == 0, err
    assert "systems: 2 created, 0 updated, 0 unchanged" in out
    code, out, _ = run(settings, "inventory", "import", str(source))
    assert "systems: 0 created, 0 updated, 2 unchanged" in out

    target = tmp_path / "out.yaml"
    code, _, err = run(settings, "inventory", "export", "--output", str(target))
    assert code == 0, err
    assert "wrote the inventory" in err
    exported = yaml.safe_load(target.read_text())
    assert [s["slug"] for s in exported["systems"]] == ["coder", "support-bot"]
    code, out, _ = run(settings, "inventory", "export")
    assert code == 0 and out == target.read_text()

    code, out, _ = run(settings, "inventory", "import", str(target))
    assert code == 0
    assert "created" not in out.replace("0 created", "")


def test_cli_and_api_share_the_database(
    settings: Settings, client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    code, out, err = run(settings, "inventory", "import", str(BOM_16))
    assert code == 0, err
    assert "CycloneDX 1.6" in out
    assert "orphan-dataset" in err  # warnings go to standard error
    systems = client.get("/api/v1/inventory/systems", headers=auth("viewer")).json()
    assert {s["slug"] for s in systems} == {"sentiment-small", "churn-predictor"}


def test_bad_file_reports_every_error_and_changes_nothing(
    tmp_path: Path, settings: Settings
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SMALL.replace("criticality: low", "criticality: lowish").replace(
            "owner: lena", "owner: nobody"
        )
    )
    code, _, err = run(settings, "inventory", "import", str(bad))
    assert code == 1
    assert "nothing was imported" in err
    assert "systems[0].owner: no person 'nobody'" in err
    assert "systems[1].criticality" in err
    code, out, _ = run(settings, "inventory", "export")
    assert yaml.safe_load(out)["systems"] == []


def test_dry_run_writes_nothing(tmp_path: Path, settings: Settings) -> None:
    source = tmp_path / "inventory.yaml"
    source.write_text(SMALL)
    code, out, _ = run(settings, "inventory", "import", "--dry-run", str(source))
    assert code == 0 and "would import" in out and "2 created" in out
    _, out, _ = run(settings, "inventory", "export")
    assert yaml.safe_load(out)["systems"] == []


def test_missing_file_and_size_limit(tmp_path: Path, settings: Settings) -> None:
    code, _, err = run(settings, "inventory", "import", str(tmp_path / "nope.yaml"))
    assert code == 1 and "cannot read" in err
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 100 + "\n")
    env_settings = settings.model_copy()
    result = runner.invoke(
        cli,
        ["--data-dir", str(env_settings.data_dir), "inventory", "import", str(big)],
        env={
            "FIRESTOP_IMPORT_MAX_BYTES": "50",
            **({"FIRESTOP_DATABASE_URL": settings.database_url} if settings.database_url else {}),
        },
    )
    assert result.exit_code == 1
    assert "an import may be 50 bytes" in result.stderr


def test_long_paths_are_not_wrapped_in_the_output(tmp_path: Path, settings: Settings) -> None:
    deep = tmp_path / ("a-rather-long-directory-name-" * 4) / "inventory.yaml"
    deep.parent.mkdir(parents=True)
    deep.write_text(SMALL)
    code, out, err = run(settings, "inventory", "import", str(deep))
    assert code == 0, err
    assert f"imported {deep} (Firestop)" in out.splitlines()[0]


def test_markup_in_a_file_name_is_printed_literally(tmp_path: Path, settings: Settings) -> None:
    bad = tmp_path / "[red]oops[bold].yaml"
    bad.write_text("systems: [{slug: 'Not A Slug'}]\n")
    code, _, err = run(settings, "inventory", "import", str(bad))
    assert code == 1
    assert "[red]oops[bold].yaml" in err
