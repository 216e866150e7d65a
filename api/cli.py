"""The ``budgetopt`` command: the engine's commands plus ``serve`` and ``keys``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from optimizer.cli.main import EXIT_BAD_INPUT, app, emit_data, run_guarded

if TYPE_CHECKING:  # the service's modules load only for the commands that use them
    from api.settings import ServiceSettings

LOOPBACK = ("127.0.0.1", "localhost", "::1")

keys = typer.Typer(help="Create, list and revoke API keys (stored hashed in the database).")
app.add_typer(keys, name="keys")

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="DATABASE_URL",
        help="SQLAlchemy URL; default sqlite:///budgetopt.db (postgresql://... for a server).",
    ),
]


def _settings(database_url: str | None, **overrides: object) -> ServiceSettings:
    """The environment's settings with the command's options (a bad variable: exit 2)."""
    from api.settings import ServiceSettings

    if database_url:
        overrides["database_url"] = database_url
    try:
        return ServiceSettings(**overrides)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _database(settings: ServiceSettings):
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from api.db.engine import make_engine, session_factory
    from api.db.migrate import migrate

    try:
        engine = make_engine(settings.database_url)
        migrate(engine)
    except ArgumentError as exc:
        typer.echo(f"error: --database-url / DATABASE_URL is not a database URL: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        typer.echo(f"error: cannot use the database {settings.database_url!r}: {reason}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    return engine, session_factory(engine)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    database_url: DatabaseOpt = None,
    dev: Annotated[
        bool,
        typer.Option(
            "--dev",
            help="Single-user dev mode: requests without an API key act as admin of "
            "workspace 'default'. Loopback only; never for a shared server.",
        ),
    ] = False,
    examples: Annotated[
        Path | None,
        typer.Option(
            "--examples",
            help="Load the scenario files of this folder (e.g. scenarios) into workspace "
            "'default', once.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(min=0, max=32, help="Job worker threads per process (0: only queue jobs)."),
    ] = 1,
    processes: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes sharing the port, each with its own socket that the kernel "
            "spreads connections over (one per core serves the most plans per second; each "
            "runs its own job workers, which share the database's queue).",
        ),
    ] = 1,
) -> None:
    """Start the REST API, the planner's page at / (API docs at /docs) and its job workers."""
    import os

    import uvicorn

    from api import logs
    from api.main import create_app
    from api.services.examples import load_examples
    from api.serving import can_share_port, serve_processes
    from api.settings import variable

    if dev and host not in LOOPBACK:
        typer.echo(f"error: --dev serves without keys, so only on loopback, not {host}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    settings = _settings(database_url, dev_mode=dev, workers=workers)
    engine, factory = _database(settings)
    loaded = load_examples(factory, settings.dev_workspace, examples) if examples else []
    engine.dispose()
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    emit_data(_banner(url, settings.database_url, loaded, dev))
    logs.configure()
    if processes == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None)
        return
    # each process builds its app from the environment: pass the options on through it
    for name in ("database_url", "dev_mode", "workers"):
        os.environ[variable(name)] = str(getattr(settings, name))
    if can_share_port():  # a socket per process: connections spread over the processes
        raise typer.Exit(serve_processes(host, port, processes))
    uvicorn.run(
        "api.main:served_app",
        factory=True,
        host=host,
        port=port,
        workers=processes,
        log_config=None,
    )


def _banner(url: str, database_url: str, loaded: list[tuple[str, str]], dev: bool) -> str:
    """What ``serve`` prints before it starts: where it listens and how to try it."""
    lines = [f"budgetopt API on {url}  (docs: {url}/docs, database: {database_url})"]
    lines.append(f"  the planner's page: {url}/")
    lines += [f"  loaded example {name!r} as {ident}" for name, ident in loaded]
    if dev:
        lines.append("  DEV MODE: no API key needed, every request is admin of 'default'.")
        lines.append(f"  try: curl -s {url}/v1/scenarios")
    else:
        lines.append(f"  try: curl -s -H 'Authorization: Bearer <key>' {url}/v1/scenarios")
        lines.append("  (make a key: budgetopt keys create --workspace W --role admin)")
    return "".join(f"{line}\n" for line in lines)


@keys.command("create")
def keys_create(
    workspace: Annotated[str, typer.Option(help="Workspace the key belongs to.")],
    role: Annotated[str, typer.Option(help="viewer, planner or admin.")] = "admin",
    name: Annotated[str, typer.Option(help="A label, e.g. who holds it.")] = "",
    database_url: DatabaseOpt = None,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from api.db.engine import transaction
    from api.services.keys import create_key

    _, factory = _database(_settings(database_url))
    try:
        with transaction(factory) as session:
            row, key = create_key(session, workspace, role, name)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    typer.echo(f"created {row.id} ({role} of {workspace}); the key, shown only now:", err=True)
    emit_data(f"{key}\n")


@keys.command("list")
def keys_list(
    workspace: Annotated[str, typer.Option(help="Workspace whose keys to list.")],
    database_url: DatabaseOpt = None,
) -> None:
    """List a workspace's keys (id, role, prefix, state)."""
    from api.services.keys import list_keys

    _, factory = _database(_settings(database_url))
    with factory() as session:
        for row in list_keys(session, workspace):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            emit_data(f"{row.id}  {row.role:8}  {row.prefix}...  {state}  {row.name}\n")


@keys.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from keys list).")],
    database_url: DatabaseOpt = None,
) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from api.db.engine import transaction
    from api.db.models import ApiKey, utcnow

    _, factory = _database(_settings(database_url))
    with transaction(factory) as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            typer.echo(f"error: no key {key_id!r}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT)
        row.revoked_at = row.revoked_at or utcnow()
    emit_data(f"revoked {key_id}\n")


def main() -> None:
    """Console-script entry point."""
    run_guarded(app)
