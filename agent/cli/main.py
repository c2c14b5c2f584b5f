"""`steward`: ingest, search, show, status.

Errors become messages and exit codes here and nowhere else. Heavy modules
(Chroma, sentence-transformers) are imported inside the commands that use them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from agent import __version__
from agent.cli.consoles import err_console
from agent.errors import ConfigError, NotFound, StewardError

if TYPE_CHECKING:
    from agent.app import App

app = typer.Typer(
    name="steward",
    help="Steward reads DAO proposals for you: ingest, search, analyse, act.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"steward {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="YAML config file (or STEWARD_CONFIG).",
            envvar="STEWARD_CONFIG",
            dir_okay=False,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """Load and validate the configuration before any command runs."""
    import logging

    from agent.settings import load_settings

    # httpx logs every request URL at INFO, and webhook or RPC URLs carry secrets.
    for name in ("httpx", "httpx2", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)

    try:
        ctx.obj = load_settings(config)
    except ConfigError as exc:
        err_console().print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None


@contextmanager
def _app(ctx: typer.Context) -> Iterator[App]:
    from agent.app import App

    application = App(ctx.obj)
    err = err_console()
    try:
        yield application
    except NotFound as exc:
        err.print(f"[red]not found:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except ConfigError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except StewardError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        application.close()


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


@app.command()
def ingest(
    ctx: typer.Context,
    space: Annotated[
        list[str] | None,
        typer.Option(
            "--space", "-s", help="Snapshot space to ingest (repeatable); default: snapshot.spaces."
        ),
    ] = None,
    from_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--from-file",
            exists=True,
            dir_okay=False,
            help="Import an archive (JSON Lines) instead of calling Snapshot (repeatable: "
            "proposals and Governor votes files together, checked before anything is stored).",
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Re-read everything; proposals gone from the source are marked deleted."
        ),
    ] = False,
    chain: Annotated[
        list[str] | None,
        typer.Option(
            "--chain",
            help="Read this configured chain's Governor contracts (repeatable; 'all' for every "
            "chain in chains:).",
        ),
    ] = None,
    governor: Annotated[
        list[str] | None,
        typer.Option("--governor", "-g", help="With --chain: only this governor (repeatable)."),
    ] = None,
    no_votes: Annotated[bool, typer.Option("--no-votes", help="Skip votes.")] = False,
    no_index: Annotated[
        bool,
        typer.Option("--no-index", help="Store records only; embed later with another ingest."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Pull proposals and votes into the record store and the vector index."""
    from agent import steps
    from agent.cli import render
    from agent.cli.progress import RichProgress
    from agent.indexer import IndexCounts
    from agent.ingest import IngestFailed, exclusive_ingest

    err = err_console()
    with _app(ctx) as application, exclusive_ingest(application.settings.home):
        if from_file:
            sources = [application.archive_source(from_file, space[0] if space else None)]
        elif chain:
            sources = application.chain_sources(chain, governor)
        else:
            spaces = space or application.settings.snapshot.spaces
            if not spaces:
                raise ConfigError(
                    "no Snapshot spaces to ingest: pass --space or set "
                    "snapshot.spaces in your config (or --chain for Governor contracts)"
                )
            sources = [application.snapshot_source(list(spaces))]
        index_counts = None
        with RichProgress(err) as progress:
            try:
                counts = steps.ingest_each(
                    sources, application.store, full=full, votes=not no_votes, progress=progress
                )
            except IngestFailed as exc:
                err.print(f"[yellow]partial:[/] {exc.counts.model_dump()}")
                raise
            simulated = steps.simulate_due(application) if chain else []
            if not no_index:
                index_counts = steps.index_due(application, progress=progress) or IndexCounts()
        if as_json:
            _print_json(
                {
                    "counts": counts.model_dump(),
                    "index": index_counts.model_dump() if index_counts else None,
                    "simulated": [
                        {"uid": r.uid, "status": r.status, "why": r.why} for r in simulated
                    ],
                }
            )
        else:
            render.ingest_summary(Console(), counts, index_counts)
            for report in simulated:
                Console().print(f"simulation {report.uid}: {report.status} {report.why or ''}")


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What you are looking for, in plain words.")],
    space: Annotated[
        list[str] | None, typer.Option("--space", "-s", help="Only this space.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100)] = 5,
    include_flagged: Annotated[
        bool, typer.Option("--include-flagged", help="Also show proposals flagged as spam.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Search stored proposals by meaning and by their words (hybrid)."""
    from agent.cli import render
    from agent.search import search as run_search

    if not query.strip():
        raise typer.BadParameter("say what you are looking for", param_hint="QUERY")
    with _app(ctx) as application:
        if application.index.count() == 0:
            unindexed = len(application.store.index_tasks())
            hint = (
                f"{unindexed} proposal(s) are stored but not indexed yet: run `steward ingest` "
                "without --no-index to embed them."
                if unindexed
                else "Nothing is stored yet: run `steward ingest --space SPACE` "
                "(or `--from-file FILE`) first."
            )
            if as_json:
                err_console().print(hint, highlight=False)
                _print_json([])
            else:
                Console().print(hint, highlight=False)
            return
        hits = run_search(
            query,
            application.index,
            application.embedder(),
            spaces=space or (),
            limit=limit,
            include_flagged=include_flagged,
            text_index=application.store,
        )
        if as_json:
            _print_json([h.model_dump(mode="json") for h in hits])
        else:
            render.search_results(Console(), query, hits)


@app.command()
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="ID", help="Proposal uid, id, or a unique prefix.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one stored proposal."""
    from agent.cli import render

    with _app(ctx) as application:
        store = application.store
        matches = store.resolve(ref)
        if not matches:
            raise NotFound(f"no stored proposal matches {ref!r}")
        if len(matches) > 1:
            raise NotFound(f"{ref!r} is ambiguous: " + ", ".join(matches[:10]))
        stored = store.get(matches[0])
        assert stored is not None
        history = store.history(matches[0])
        votes = store.vote_count(matches[0])
        report = store.latest_simulation(matches[0])
        figures = application.voter_figures()
        who = figures.concentration(stored.proposal)
        p = stored.proposal
        signals = figures.signals(p.space, only=[p.uid]) if votes else []
        if as_json:
            _print_json(
                {
                    "proposal": stored.proposal.model_dump(mode="json"),
                    "deleted_at": stored.deleted_at,
                    "first_seen": stored.first_seen,
                    "last_seen": stored.last_seen,
                    "indexed_chunks": stored.indexed_chunks,
                    "votes_stored": votes,
                    "concentration": who.model_dump(mode="json"),
                    "signals": [s.model_dump(mode="json") for s in signals],
                    "history": [h.model_dump(mode="json", exclude={"body"}) for h in history],
                    "simulation": {
                        "report_hash": report.report_hash(),
                        **report.model_dump(mode="json"),
                    }
                    if report
                    else None,
                }
            )
        else:
            render.proposal(Console(), stored, votes, history, who, signals)
            if report is not None:
                from agent.cli.render_simulation import simulation

                stale = report.content_hash != stored.proposal.content_hash
                simulation(Console(), report, report.report_hash(), stale=stale)


@app.command()
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """What is stored per source and space, the cursors, and the last runs."""
    from agent.cli import render, render_run
    from agent.runner.status import service_health

    with _app(ctx) as application:
        store = application.store
        summary, cursors, runs = store.summary(), store.cursors(), store.last_runs()
        health = service_health(application.settings, store)
        tracks = {d.id: application.track_record(d) for d in application.settings.voting.delegates}
        index_count = None
        if application.settings.chroma_path.exists() or application.settings.vector_store.url:
            index_count = application.index.count()
        if as_json:
            _print_json(
                {
                    "home": str(application.settings.home),
                    "database": _redact_url(application.settings.database_url),
                    "spaces": [s.model_dump() for s in summary],
                    "cursors": [
                        {"source": s, "scope": c, "value": v, "updated": u}
                        for s, c, v, u in cursors
                    ],
                    "runs": [r.model_dump(mode="json") for r in runs],
                    "index_chunks": index_count,
                    "service": health.model_dump(mode="json"),
                    "track_records": {k: t.model_dump() for k, t in tracks.items()},
                }
            )
        else:
            render.status(Console(), summary, cursors, runs, index_count)
            render_run.service_health(Console(), health)
            for name, track in tracks.items():
                Console().print(f"{name}: {track.line()}", highlight=False, markup=False)


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _register_more() -> None:
    from agent.cli import (
        analysis_cmds,
        answer_cmd,
        audit_cmd,
        backtest_cmd,
        bot_cmd,
        digest_cmd,
        run_cmd,
        simulate_cmd,
        vote_cmd,
        voters_cmd,
        webhook_cmd,
    )

    analysis_cmds.register(app, _app)
    audit_cmd.register(app, _app)
    backtest_cmd.register(app, _app)
    digest_cmd.register(app, _app)
    bot_cmd.register(app, _app)
    webhook_cmd.register(app, _app)
    vote_cmd.register(app, _app)
    answer_cmd.register(app, _app)
    run_cmd.register(app, _app)
    simulate_cmd.register(app, _app)
    voters_cmd.register(app, _app)


_register_more()

if __name__ == "__main__":  # pragma: no cover
    app()
