"""``firestop inventory``: import and export the AI inventory as files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="The AI inventory: systems, people, vendors, authority.", no_args_is_help=True
)


# ``firestop.cli`` mounts this app while it is being imported, so it is imported lazily here.


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="Firestop YAML/JSON or CycloneDX ML-BOM JSON")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and report; change nothing")
    ] = False,
) -> None:
    """Upsert everything a file describes; a file with any error changes nothing."""
    from firestop import cli
    from firestop.db import unit_of_work
    from firestop.errors import FirestopError
    from firestop.inventory.service import import_document
    from firestop.policy.service import load_policy

    settings = cli.settings()
    try:
        size = file.stat().st_size
        if size > settings.import_max_bytes:
            raise cli.fail(
                f"{file} is {size} bytes; an import may be {settings.import_max_bytes} bytes"
            )
        content = file.read_bytes()
    except OSError as exc:
        raise cli.fail(f"cannot read {file}: {exc.strerror}") from exc
    try:
        policy = load_policy(settings.policy)
        with unit_of_work(cli.session_factory()) as db:
            result = import_document(
                db, content=content, filename=file.name, content_type=None, policy=policy
            )
            if dry_run:
                db.rollback()
    except FirestopError as exc:
        raise cli.fail(f"{file}: {exc.detail}", [f"{e.loc}: {e.msg}" for e in exc.errors]) from exc
    what = f"CycloneDX {result.spec_version}" if result.format == "cyclonedx" else "Firestop"
    verb = "would import" if dry_run else "imported"
    cli.out.print(f"{verb} {file} ({what})")
    for kind, counts in result.counts().items():
        if counts.created or counts.updated or counts.unchanged:
            cli.out.print(
                f"  {kind}: {counts.created} created, {counts.updated} updated, "
                f"{counts.unchanged} unchanged"
            )
    for warning in result.warnings:
        cli.err.print(f"warning: {warning}", markup=False, soft_wrap=True)


@app.command("export")
def export_file(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of standard output")
    ] = None,
) -> None:
    """Write the whole inventory as Firestop YAML, ready to import elsewhere."""
    from firestop import cli
    from firestop.db import unit_of_work
    from firestop.inventory.service import export_yaml

    with unit_of_work(cli.session_factory()) as db:
        text = export_yaml(db)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, "utf-8")
    except OSError as exc:
        raise cli.fail(f"cannot write {output}: {exc.strerror}") from exc
    cli.err.print(f"wrote the inventory to {output}", markup=False)
