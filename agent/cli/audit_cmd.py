"""`steward audit log | verify | export`: read and check the voting audit trail."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from agent.cli.consoles import err_console
from agent.errors import NotFound

if TYPE_CHECKING:
    from agent.app import App
    from agent.voting.audit_log import AuditLog
    from agent.voting.intent_store import IntentStore
    from agent.voting.models import AuditEntry, AuditReport, Intent

audit_app = typer.Typer(help="The voting audit log: read, verify, export.", no_args_is_help=True)


def register(app: typer.Typer, open_app: object) -> None:
    """Attach `steward audit …`; `open_app` is the CLI's context manager building an App."""

    @audit_app.command("log")
    def log(
        ctx: typer.Context,
        limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Newest N.")] = 20,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """The newest audit entries, oldest first."""
        with open_app(ctx) as application:  # type: ignore[operator]
            entries = _audit(application).tail(limit)
            if as_json:
                _print_json([e.model_dump() for e in entries])
            else:
                _log_table(Console(), entries)

    @audit_app.command("verify")
    def verify(
        ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
    ) -> None:
        """Walk the hash chain and check it against the head file; exit 1 if broken."""
        with open_app(ctx) as application:  # type: ignore[operator]
            report = _audit(application).verify()
        if as_json:
            _print_json(report.model_dump())
        else:
            _report(Console(), report)
        if not report.ok:
            raise typer.Exit(1)

    @audit_app.command("export")
    def export(
        ctx: typer.Context,
        ref: Annotated[str, typer.Argument(metavar="ID", help="Intent id or proposal uid.")],
        out: Annotated[
            Path | None, typer.Option("--out", "-o", dir_okay=False, help="Write to this file.")
        ] = None,
    ) -> None:
        """A vote's full bundle, its audit entries and a recomputed provenance hash."""
        with open_app(ctx) as application:  # type: ignore[operator]
            document = _export(_intents(application), _audit(application), ref)
        text = json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
            err_console().print(f"exported to {escape(str(out))}", highlight=False)
        else:
            sys.stdout.write(text)
        broken = [i["intent"]["id"] for i in document["intents"] if not i["provenance"]["matches"]]
        if broken:
            err_console().print(
                f"[red]provenance mismatch:[/] {', '.join(broken)}", highlight=False
            )
            raise typer.Exit(1)

    app.add_typer(audit_app, name="audit")


def _audit(application: App) -> AuditLog:
    from agent.voting.audit import head_path
    from agent.voting.audit_log import AuditLog

    return AuditLog(application.store.engine, head_path(application.settings.home))


def _intents(application: App) -> IntentStore:
    from agent.voting.intent_store import IntentStore

    return IntentStore(application.store.engine)


def _export(intents: IntentStore, audit: AuditLog, ref: str) -> dict[str, Any]:
    one = intents.get(ref)
    if one is not None:
        found = [one]
        entries = audit.entries(proposal_uid=one.proposal_uid, delegate=one.delegate)
    else:
        found = intents.for_uid(ref)
        entries = audit.entries(proposal_uid=ref)
    if not found and not entries:
        raise NotFound(f"no vote intent or audit entry for {ref!r}")
    return {
        "ref": ref,
        "intents": [_intent_export(i) for i in found],
        "audit": [e.model_dump() for e in entries],
    }


def _intent_export(intent: Intent) -> dict[str, Any]:
    from agent.voting.provenance import provenance_hash, provenance_tag

    recomputed = provenance_hash(intent.bundle)
    return {
        "intent": intent.model_dump(mode="json", exclude={"bundle"}),
        "bundle": intent.bundle,
        "provenance": {
            "stored": intent.provenance_hash,
            "recomputed": recomputed,
            "matches": recomputed == intent.provenance_hash,
            "reason_cites_it": provenance_tag(recomputed) in intent.reason,
        },
    }


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def _log_table(console: Console, entries: list[AuditEntry]) -> None:
    if not entries:
        console.print("The audit log is empty.")
        return
    console.print("[bold]Audit log[/] [dim](steward audit log --json for every field)[/]")
    for e in entries:
        console.print(
            f"{e.seq:>4} {e.at:%m-%d %H:%M:%S} [bold]{escape(e.kind)}[/] "
            f"{escape(e.delegate or '-')} {escape(_short_uid(e.proposal_uid))} "
            f"[dim]{escape(_gist(e.data))}[/]",
            highlight=False,
            soft_wrap=True,
        )


def _short_uid(uid: str | None) -> str:
    """`chain:1:0xabc…:1234…` → its source and last digits; the full uid is in --json."""
    if not uid:
        return "—"
    return uid if len(uid) <= 24 else f"{uid.split(':', 1)[0]}:…{uid[-10:]}"


def _gist(data: dict[str, Any]) -> str:
    """The few fields a person scans for; everything else is in --json."""
    keys = ("status", "mode", "blockers", "choice", "confidence", "ref", "by", "why", "error")
    parts = []
    for key in keys:
        value = data.get(key)
        if value in (None, [], ""):
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        text = str(value)
        parts.append(f"{key}={text if len(text) <= 24 else text[:23] + '…'}")
    return " ".join(parts) or "—"


def _report(console: Console, report: AuditReport) -> None:
    head = f"head file at seq {report.head.seq}" if report.head else "no head file"
    if report.ok:
        console.print(f"[green]ok:[/] {report.entries} entries, chain intact, {head}")
    else:
        where = f" at seq {report.broken_seq}" if report.broken_seq is not None else ""
        console.print(
            f"[red]BROKEN{where}:[/] {report.problem} — {escape(report.detail)}", highlight=False
        )
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
