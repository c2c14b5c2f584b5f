"""The chain benchmark's printed report (the figures themselves are in the JSON)."""

from __future__ import annotations

from collections.abc import Sequence

from bench_common import Json
from rich.console import Console
from rich.table import Table


# ---- report -------------------------------------------------------------------------
def _table(title: str, columns: Sequence[str], rows: list[list[str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for row in rows:
        table.add_row(*row)
    return table


def _methods(by_method: dict[str, int]) -> str:
    short = {"eth_getBlockByNumber": "getBlock", "eth_getLogs": "getLogs", "eth_call": "call",
             "eth_blockNumber": "blockNumber", "eth_chainId": "chainId"}  # fmt: skip
    return ", ".join(f"{short.get(k, k)} {v:,}" for k, v in by_method.items())


def render(console: Console, r: Json) -> None:
    c = r["chain"]
    console.print(
        f"chain: {c['blocks_to_scan']:,} blocks ({c['start_block']}..{c['head']}), "
        f"{c['proposals']:,} proposals, {c['votes']:,} votes, lifecycle "
        f"{c['lifecycle_events']}, {c['events']:,} events; states {c['states']}; "
        f"populated in {c['seconds']} s",
        highlight=False,
    )
    rows = []
    for name, x in r["configs"].items():
        f, i = x["full"], x["incremental"]
        rows.append(
            [
                name,
                f"{f['wall_s']} s",
                f"{f['blocks_per_s']:,}",
                f"{f['events_per_s']:,}",
                f"{f['requests']['total']:,}",
                str(f["range_refusals"]),
                f"{i['wall_s']} s / {i['requests']['total']:,}",
            ]
        )
    console.print(
        _table(
            "Full ChainSource ingest into a fresh SQLite store",
            ["config", "wall", "blocks/s", "events/s", "requests", "refusals", "again: wall / req"],
            rows,
        )
    )
    rows = [
        [name, _methods(x["full"]["requests"]["by_method"]),
         _methods(x["incremental"]["requests"]["by_method"])]
        for name, x in r["configs"].items()
    ]  # fmt: skip
    console.print(_table("JSON-RPC requests by method", ["config", "full", "incremental"], rows))
    direct = r["configs"]["direct"]["full"]
    rows = [
        [name, f"{v['n']:,}", f"{v['seconds']} s", f"{v['seconds'] / direct['wall_s']:.0%}"]
        for name, v in direct["requests"]["by_call"].items()
    ]
    console.print(
        _table(
            "direct: time in each ChainSource call (unprofiled)", ["call", "n", "s", "share"], rows
        )
    )
    p = r["profile"]
    rows = [
        [name, f"{b['calls']:,}", f"{b['seconds']} s", f"{b['share']:.0%}"]
        for name, b in p["buckets"].items()
    ]
    console.print(
        _table(
            f"cProfile, direct ingest ({p['profiled_wall_s']} s profiled; "
            f"HTTP round trips {p['http_round_trips_s']} s)",
            ["bucket", "calls", "cumulative", "share"],
            rows,
        )
    )
    for name, found in p["callers"].items():
        console.print(f"{name} called from: {found}", highlight=False)
    d = r["derived"]
    x = d["without_validation_middleware"]
    console.print(
        f"requests per proposal {d['requests_per_proposal']} ({d['by_call_per_proposal']}); "
        f"contract reads {d['contract_reads']:,} = {d['contract_reads_share_of_wall']:.0%} of the "
        f"direct wall time; eth_chainId {d['eth_chainId_share_of_requests']:.0%} of requests; "
        f"re-reads of new proposals in _refresh {d['refresh_rereads_of_new_proposals']:,} "
        f"(~{d['refresh_rereads_est_seconds']} s); non-final proposals "
        f"{d['non_final_proposals']} -> {d['incremental_requests_per_non_final_proposal']} "
        f"requests each on an incremental run. Experiment, web3 validation middleware removed: "
        f"{x['requests']:,} requests ({x['requests_saved']:,} fewer), {x['wall_s']} s "
        f"({x['wall_saved_share']:.0%} less wall time)",
        highlight=False,
    )
    m = r["machine"]
    console.print(
        f"machine: {m['cpu_count']} CPUs, Python {m['python']}, web3 {m['web3']}, {m['anvil']}; "
        f"{m['date']}; load {r['loadavg_start']} -> {r['loadavg_end']}; "
        f"total {r['total_seconds']} s",
        highlight=False,
    )
