"""The ``firestop`` command."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from firestop.access import service as access
from firestop.access.models import Role
from firestop.config import Settings
from firestop.db import make_engine, make_sessionmaker, unit_of_work
from firestop.errors import FirestopError

app = typer.Typer(
    help="Firestop: incident response for AI systems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
user_app = typer.Typer(help="Users of the web interface.", no_args_is_help=True)
policy_app = typer.Typer(help="Taxonomy and severity policy.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(user_app, name="user")
app.add_typer(policy_app, name="policy")

out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


class State:
    settings: Settings = Settings()


@app.callback()
def main_options(
    data_dir: Annotated[
        Path | None, typer.Option(help="Directory for the embedded database (default ./.firestop)")
    ] = None,
    policy: Annotated[
        Path | None, typer.Option(help="Organisation policy YAML (or FIRESTOP_POLICY)")
    ] = None,
) -> None:
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if policy is not None:
        overrides["policy"] = policy
    State.settings = Settings(**overrides)  # type: ignore[arg-type]


def settings() -> Settings:
    return State.settings


def fail(message: str, errors: list[str] | None = None) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", markup=True)
    for line in errors or []:
        err.print(f"  - {line}")
    return typer.Exit(code=1)


def ready_engine(*, upgrade: bool = False) -> Engine:
    """The engine for the configured database, schema brought up to date where allowed."""
    from firestop import migrate

    s = settings()
    if s.is_embedded:
        s.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(s.sqlalchemy_url)
    if upgrade or s.is_embedded:
        migrate.upgrade(engine)
    elif migrate.current_revision(engine) != migrate.head_revision(s.sqlalchemy_url):
        raise fail("the database schema is not current; run `firestop db upgrade` first")
    return engine


def session_factory() -> sessionmaker[Session]:
    return make_sessionmaker(ready_engine())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    ready_engine(upgrade=True)
    out.print("database schema is up to date")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="What the token is for")],
    role: Annotated[Role, typer.Option(help="Role the token acts with")],
) -> None:
    """Create an API token; the token is printed once, as the last line."""
    with unit_of_work(session_factory()) as db:
        token, clear = access.create_token(db, name=name, role=role, created_by="cli")
        out.print(f"created token {token.prefix}… '{name}' with role {role.value}")
        out.print("store it now; only its hash is kept:")
    print(clear)


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument()],
    role: Annotated[Role, typer.Option(help="Role of the user")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="FIRESTOP_NEW_USER_PASSWORD",
        ),
    ],
    display_name: Annotated[str, typer.Option()] = "",
    email: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a user who can log in to the web interface."""
    from pydantic import ValidationError

    from firestop.access.schemas import UserIn

    try:
        body = UserIn(
            username=username, password=password, role=role, display_name=display_name, email=email
        )
    except ValidationError as exc:
        raise fail(
            "invalid user", [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        ) from exc
    try:
        with unit_of_work(session_factory()) as db:
            access.create_user(
                db,
                username=body.username,
                password=body.password,
                role=body.role,
                display_name=body.display_name,
                email=body.email,
            )
    except FirestopError as exc:
        raise fail(exc.detail) from exc
    out.print(f"created user {username} with role {role.value}")


@policy_app.command("check")
def policy_check(file: Annotated[Path, typer.Argument(help="Policy YAML to validate")]) -> None:
    """Validate a policy file; every error names its field and the problem."""
    from firestop.policy.service import check_file, digest, load_policy

    errors = check_file(file)
    if errors:
        raise fail(f"{file}: {len(errors)} error(s)", [f"{e.loc}: {e.msg}" for e in errors])
    policy = load_policy(file)
    out.print(
        f"{file}: valid — policy {policy.version} ({digest(policy)}), "
        f"{len(policy.taxonomy.categories)} categories, "
        f"{len(policy.severity.factors)} severity factors, {len(policy.actions)} actions"
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    demo: Annotated[bool, typer.Option(help="Load the demo organisation on first start")] = False,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (one per core for heavy ingest)")
    ] = 1,
) -> None:
    """Run the web interface and API."""
    import uvicorn

    from firestop.api import create_app

    s = settings()
    engine = ready_engine()
    if demo:
        from firestop.demo import ensure_demo
        from firestop.policy.service import load_policy

        with unit_of_work(make_sessionmaker(engine)) as db:
            login = ensure_demo(db, data_dir=s.data_dir, policy=load_policy(s.policy))
        out.print(
            f"demo organisation loaded; log in as [bold]{login.username}[/bold] with "
            f"password [bold]{login.password}[/bold]",
            markup=True,
        )
    engine.dispose()
    bind_host, bind_port = host or s.host, port or s.port
    out.print(f"Firestop is at http://{bind_host}:{bind_port}/  (API described at /openapi.json)")
    # A long-running server: tune the garbage collector once warm (see firestop/gctune.py).
    s = s.model_copy(update={"tune_gc": True})
    os.environ["FIRESTOP_TUNE_GC"] = "1"
    try:
        application = create_app(s)
    except FirestopError as exc:
        raise fail(exc.detail, [f"{e.loc}: {e.msg}" for e in exc.errors]) from exc
    if workers == 1:
        uvicorn.run(
            application, host=bind_host, port=bind_port, log_level="info", proxy_headers=False
        )
        return
    application.state.engine.dispose()
    # Each worker process builds its own app from the environment: hand the settings over.
    os.environ["FIRESTOP_DATA_DIR"] = str(s.data_dir.resolve())
    if s.database_url:
        os.environ["FIRESTOP_DATABASE_URL"] = s.database_url
    if s.policy:
        os.environ["FIRESTOP_POLICY"] = str(s.policy.resolve())
    uvicorn.run(
        "firestop.api:create_app",
        factory=True,
        workers=workers,
        host=bind_host,
        port=bind_port,
        log_level="info",
        proxy_headers=False,
    )


def _mount_area_commands() -> None:
    from firestop.incidents.cli import app as incident_app
    from firestop.inventory.cli import app as inventory_app
    from firestop.ledger.cli import app as ledger_app

    app.add_typer(inventory_app, name="inventory")
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(incident_app, name="incident")


_mount_area_commands()


def main() -> None:
    app()
