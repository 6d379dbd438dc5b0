"""``firestop ledger``: housekeeping of the interaction ledger."""

from __future__ import annotations

import typer

app = typer.Typer(help="The interaction ledger.", no_args_is_help=True)


@app.command()
def retention() -> None:
    """Apply every system's retention now (the server also does it every hour)."""
    from firestop import cli
    from firestop.db import make_sessionmaker
    from firestop.ledger.maintenance import run_once

    engine = cli.ready_engine()
    result = run_once(make_sessionmaker(engine))
    engine.dispose()
    cli.out.print(
        f"retention: {result.hashed} interactions reduced to hashes, {result.dropped} dropped, "
        f"{result.kept_for_incidents} kept because an incident holds them"
    )
