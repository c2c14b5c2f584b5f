"""`steward backtest`: how often Steward's recommendation matched a real voter's votes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.errors import ConfigError

if TYPE_CHECKING:
    from agent.backtest.metrics import Metrics
    from agent.backtest.models import BacktestReport


def register(app: typer.Typer, open_app: object) -> None:
    @app.command()
    def backtest(
        ctx: typer.Context,
        voter: Annotated[str, typer.Option("--voter", help="The address whose votes to replay.")],
        space: Annotated[str | None, typer.Option("--space", "-s", help="Only this space.")] = None,
        policy: Annotated[
            Path | None, typer.Option("--policy", help="Policy file (default: analysis.policy).")
        ] = None,
        analyst: Annotated[
            str | None,
            typer.Option(
                "--analyst",
                help="heuristic, precedent or llm (default: analysis.analyst, i.e. llm when a "
                "model is configured, else precedent).",
            ),
        ] = None,
        since: Annotated[
            str | None,
            typer.Option("--since", help="Only proposals created on/after (YYYY-MM-DD)."),
        ] = None,
        limit: Annotated[
            int | None, typer.Option("--limit", "-n", min=1, help="Only the N most recent.")
        ] = None,
        repeat: Annotated[
            int, typer.Option("--repeat", min=1, max=20, help="Run K times; report flips.")
        ] = 1,
        refresh: Annotated[
            bool, typer.Option("--refresh", help="Re-assess even where a cached one holds.")
        ] = False,
        fmt: Annotated[str, typer.Option("--format", help="text or html.")] = "text",
        out: Annotated[Path | None, typer.Option("--out", help="Write the report here.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Replay an analyst over an address's past votes, in time order, with no peeking."""
        from agent.analysis.tools import AsOf
        from agent.backtest.html import render_html
        from agent.backtest.replay import backtest as run_backtest
        from agent.backtest.replay import save

        with open_app(ctx) as application:  # type: ignore[operator]
            if fmt not in ("text", "html"):
                raise ConfigError(f"--format {fmt!r}: text or html")
            if fmt == "html" and out is None:
                raise ConfigError("--format html needs --out FILE")
            start = _date(since) if since else None
            pol = application.policy(policy)
            clock = AsOf()
            who = application.analyst(
                analyst,
                voter=voter,
                as_of=lambda p: p.created or datetime.now(UTC),
                tools_as_of=clock,
            )

            def before_each(p: object) -> None:
                clock.moment = getattr(p, "created", None)

            report = run_backtest(
                application.store,
                voter=voter,
                policy=pol,
                analyst=who,
                space=space,
                since=start,
                limit=limit,
                repeat=repeat,
                refresh=refresh,
                before_each=before_each,
            )
            save(application.store, report)
        if fmt == "html":
            assert out is not None
            _write(out, render_html(report))
        elif out is not None:
            _write(out, report.model_dump_json(indent=2))
        if as_json:
            typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        else:
            render(Console(), report)
            if out is not None:
                Console(stderr=True).print(f"report written to {escape(str(out))}")


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise ConfigError(f"--since {text!r}: expected a date like 2021-06-30") from None


def _write(path: Path, text: str) -> None:
    """Whole or nothing: written beside the target, then renamed over it."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _row(table: Table, name: str, m: Metrics) -> None:
    a = m.per_choice["AGAINST"]
    table.add_row(
        name,
        str(m.n),
        _pct(m.coverage),
        _pct(m.agreement),
        _num(m.kappa),
        _pct(a.recall),
        _pct(a.precision),
        _num(m.brier),
    )


def render(console: Console, report: BacktestReport) -> None:
    ident = report.identity
    scope = f" in {report.space}" if report.space else ""
    console.print(
        f"[bold]Backtest of {escape(ident.analyst)}[/] against {escape(report.voter)}{scope}: "
        f"{report.n} proposals in time order ({report.skipped} vote(s) skipped), "
        f"{report.seconds_per_proposal:.2f} s per proposal",
        highlight=False,
    )
    table = Table("", "n", "coverage", "agreement", "κ", "AGAINST recall", "AGAINST prec.", "Brier")
    table.columns[0].no_wrap = True
    _row(table, f"Steward ({ident.analyst})", report.steward)
    _row(table, "always FOR", report.always_for)
    _row(table, "DAO outcome", report.outcome)
    console.print(table)
    m = report.steward
    matrix = Table("voted \\ said", "FOR", "AGAINST", "ABSTAIN", "NONE", title="Confusion")
    for actual, row in m.confusion.items():
        matrix.add_row(actual, *(str(row[k]) for k in ("FOR", "AGAINST", "ABSTAIN", "NONE")))
    console.print(matrix)
    bands = Table("confidence", "n", "mean conf.", "agreement", title="Reliability")
    for b in m.reliability:
        bands.add_row(
            f"{b.low:.1f}-{b.high:.1f}", str(b.n), _pct(b.mean_confidence), _pct(b.agreement)
        )
    console.print(bands)
    if report.repeat > 1:
        console.print(f"Repeated {report.repeat}x: flip rate {_pct(report.flip_rate)}")
    console.print(f"[bold]Disagreements ({len(report.disagreements)})[/]")
    for c in report.disagreements:
        console.print(
            f"  {c.created:%Y-%m-%d} {escape(c.title[:70])}: voted [bold]{c.actual}[/], "
            f"Steward {c.recommendation} ({c.confidence:.0%})\n"
            f"    {escape(c.link or c.uid)}\n    why: {escape(c.reason[:300])}"
            + (f"\n    their reason: {escape(c.vote_reason[:300])}" if c.vote_reason else ""),
            highlight=False,
            soft_wrap=True,
        )
