"""CLI commands of the incidents area."""

from __future__ import annotations

import typer

app = typer.Typer(help="incidents commands.", no_args_is_help=True)
