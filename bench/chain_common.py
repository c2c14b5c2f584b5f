"""What the chain benchmark's parts share: the configurations it compares, fixed sizes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "chain_ingest.json"
CHAIN_ID = 31337
GOVERNOR = "bench-dao"
MAX_BLOCK_RANGE = 10_000
TIMELOCK_DELAY = 60
QUEUE_SHARE = 10  # 1 proposal in 10 (if it succeeded) is queued ...
CANCEL_SHARE = 100  # ... and 1 in 100 more is proposed and withdrawn at once
DEFAULT_RPS = 20.0  # ChainSettings.requests_per_second: the app paces requests to this
STATE_NAMES = ("pending", "active", "canceled", "defeated", "succeeded", "queued", "expired",
               "executed")  # fmt: skip
PROFILE_TOP = 15
MINE_STEP = 250
TAIL_BLOCKS = 60  # what the bulk load and the lifecycle mine besides one voting period


@dataclass(frozen=True)
class Config:
    name: str
    label: str
    proxy: bool = False
    """Through a CappedRPC proxy (in this process: its time counts) rather than direct."""
    cap: int | None = None
    """The proxy's eth_getLogs block cap; None: no cap."""


CONFIGS = (
    Config("direct", "direct to anvil"),
    Config("proxy_uncapped", "CappedRPC, no cap (the proxy's own cost)", proxy=True),
    Config("capped_2000", "CappedRPC, 2,000-block cap (Alchemy-like)", proxy=True, cap=2000),
    Config("capped_500", "CappedRPC, 500-block cap", proxy=True, cap=500),
)
