"""cProfile of one more direct ingest: where the time goes."""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench_common import Json
from chain_common import PROFILE_TOP, PROJECT_ROOT
from chain_requests import make_source
from chain_setup import Chain

from agent.ingest import ingest
from agent.store import RecordStore

# ---- profile --------------------------------------------------------------------
# (file suffix, function name) -> bucket. Buckets are disjoint subtrees of the ingest.
BUCKETS: dict[str, list[tuple[str, str]]] = {
    "eth_getLogs (request + web3 log formatting)": [("connectors/chain/rpc.py", "get_logs")],
    "log decoding (GovernorReader.decode)": [("connectors/chain/governor.py", "decode")],
    "eth_getBlockByNumber (timestamps, checkpoints)": [("connectors/chain/rpc.py", "block")],
    "state() reads": [("connectors/chain/governor.py", "state")],
    "proposalVotes() tally reads": [("connectors/chain/governor.py", "tally")],
    "quorum() reads": [("connectors/chain/governor.py", "quorum")],
    "action decoding (decode_actions)": [("agent/decode/decode.py", "decode_actions")],
    "store writes (apply_proposals, apply_votes)": [
        ("agent/store/records.py", "apply_proposals"),
        ("agent/store/records.py", "apply_votes"),
    ],
    "store reads (get, vote_count, refs)": [
        ("agent/store/records.py", "get"),
        ("agent/store/records.py", "vote_count"),
        ("agent/store/records.py", "refs"),
    ],
}


def _key_label(key: tuple[str, int, str]) -> str:
    file, line, name = key
    path = Path(file)
    try:
        short = str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        parts = path.parts
        short = (
            "/".join(parts[parts.index("site-packages") + 1 :])
            if "site-packages" in parts
            else file
        )
    return f"{short}:{line}({name})"


def profile_ingest(chain: Chain, home: Path) -> Json:
    """cProfile one more direct ingest (fresh store): time by bucket and top functions."""
    store = RecordStore(f"sqlite:///{home / 'profiled.db'}")
    source, seen = make_source(chain, chain.node.url)
    profiler = cProfile.Profile()
    try:
        t0 = time.perf_counter()
        profiler.enable()
        ingest(source, store)
        profiler.disable()
        wall = time.perf_counter() - t0
    finally:
        store.close()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    buckets: Json = {}
    for bucket, wanted in BUCKETS.items():
        seconds, calls = 0.0, 0
        for (file, _line, name), (_cc, nc, _tt, ct, _callers) in raw.items():
            if any(file.endswith(suffix) and name == fn for suffix, fn in wanted):
                seconds += ct
                calls += nc
        buckets[bucket] = {"seconds": round(seconds, 3), "calls": calls,
                           "share": round(seconds / wall, 3)}  # fmt: skip
    accounted = sum(b["seconds"] for b in buckets.values())
    buckets["everything else (ingest loop, models, mapping)"] = {
        "seconds": round(wall - accounted, 3),
        "calls": 0,
        "share": round((wall - accounted) / wall, 3),
    }

    def callers(suffix: str, function: str) -> dict[str, int]:
        found: Counter[str] = Counter()
        for (file, _line, name), entry in raw.items():
            if file.endswith(suffix) and name == function:
                for (cfile, _cline, cname), cstat in entry[4].items():
                    found[f"{Path(cfile).name}:{cname}"] += cstat[1]
        return dict(found.most_common())

    http_seconds = sum(
        v[3]
        for (file, _l, name), v in raw.items()
        if file.endswith("web3/providers/rpc/rpc.py") and name == "_make_request"
    )

    def top(sort_index: int) -> list[Json]:
        rows = sorted(raw.items(), key=lambda kv: kv[1][sort_index], reverse=True)[:PROFILE_TOP]
        return [
            {"function": _key_label(k), "calls": v[1], "tottime_s": round(v[2], 3),
             "cumtime_s": round(v[3], 3)}
            for k, v in rows
        ]  # fmt: skip

    return {
        "profiled_wall_s": round(wall, 3),
        "requests": seen.summary(),
        "buckets": buckets,
        "http_round_trips_s": round(http_seconds, 3),
        "callers": {
            "ChainRpc.block (eth_getBlockByNumber)": callers("connectors/chain/rpc.py", "block"),
            "GovernorReader.state": callers("connectors/chain/governor.py", "state"),
            "_GovernorSync._with_tally (tally + quorum)": callers(
                "connectors/chain/source.py", "_with_tally"
            ),
        },
        "top_cumulative": top(3),
        "top_own_time": top(2),
    }
