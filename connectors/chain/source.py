"""ChainSource: incremental, reorg-safe sync of Governor proposals and votes.

Per governor and run:
1. the governor as a space;
2. reorg check: the block hash recorded at the cursor must still be canonical;
   if not, the newest recorded checkpoint that still is becomes the restart
   point, and a `Rewind` drops the votes above it (in one transaction with the
   cursor) before those blocks are read again;
3. logs from the cursor to the last final block (head - confirmations), in
   windows that adapt to the provider; each window's proposals and votes are
   applied, then the cursor moves past it;
4. proposals that can still change (or that a window touched, or that a
   rewind may have undone) are re-read: state, tally, quorum. A proposal the
   governor no longer knows after a reorg is recorded as gone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Final

from agent.cursors import CursorUpdate, ProposalRef
from agent.decode import KnownContract, RawAction, TokenInfo, actions_extra, decode_actions
from agent.errors import SourceError
from agent.models import Proposal, Space, Vote, required, utc
from agent.ports import (
    ProposalPage,
    ProposalsGone,
    Rewind,
    SpaceSeen,
    SyncItem,
    SyncState,
    VotePage,
)
from agent.settings import ChainSettings, GovernorSettings
from connectors.chain.governor import (
    FINAL_STATES,
    CreatedEvent,
    GovernorReader,
    VoteEvent,
)
from connectors.chain.logs import RangeWindow, scan_logs
from connectors.chain.reorg import Checkpoints
from connectors.chain.rpc import ChainRpc
from connectors.chain.tokens import TokenDirectory

SOURCE: Final = "chain"
CHOICES: Final = ["For", "Against", "Abstain"]
# Governor `support` (0 against, 1 for, 2 abstain) as a 1-based index into CHOICES,
# the way Snapshot numbers choices, so both sources' votes read alike.
SUPPORT_TO_CHOICE: Final = {1: 1, 0: 2, 2: 3}


class ChainSource:
    """A ProposalSource over the governors of one chain."""

    name = SOURCE

    def __init__(
        self,
        rpc: ChainRpc,
        chain: ChainSettings,
        governors: Sequence[str] | None = None,
    ) -> None:
        self.rpc = rpc
        self.chain = chain
        by_name = {g.name: g for g in chain.governors}
        unknown = [g for g in governors or () if g not in by_name]
        if unknown:
            raise SourceError(f"chain {chain.name} has no governor named {', '.join(unknown)}")
        self._governors = [by_name[g] for g in governors] if governors else list(chain.governors)
        self._known = [KnownContract(**c.model_dump()) for c in chain.contracts]
        self.tokens = TokenDirectory(rpc, self._known)
        self._chain_checked = False
        self._timestamps: dict[int, int] = {}

    def scopes(self) -> list[str]:
        return [g.name for g in self._governors]

    def sync(
        self, scope: str, state: SyncState, *, full: bool = False, votes: bool = True
    ) -> Iterator[SyncItem]:
        gov = next((g for g in self._governors if g.name == scope), None)
        if gov is None:
            raise SourceError(f"chain {self.chain.name} has no governor named {scope!r}")
        self._check_chain()
        yield from _GovernorSync(self, gov, state, full=full, votes=votes).run()

    # ---- shared helpers ---------------------------------------------------
    def _check_chain(self) -> None:
        if self._chain_checked:
            return
        actual = self.rpc.chain_id()
        if actual != self.chain.chain_id:
            raise SourceError(
                f"chain {self.chain.name}: the node serves chain id {actual}, "
                f"configured {self.chain.chain_id}; refusing to mix chains"
            )
        self._chain_checked = True

    def timestamp(self, block: int, hint: int | None = None) -> int:
        if hint is not None:
            self._timestamps[block] = hint
        if block not in self._timestamps:
            info = self.rpc.block(block)
            if info is None:
                raise SourceError(f"chain {self.chain.name}: block {block} is not available")
            self._timestamps[block] = info.timestamp
        return self._timestamps[block]

    def forget_timestamps(self, from_block: int) -> None:
        """Blocks a reorg replaced have new timestamps."""
        self._timestamps = {b: t for b, t in self._timestamps.items() if b < from_block}

    def token_info(self, address: str) -> TokenInfo | None:
        return self.tokens.info(address)


class _GovernorSync:
    """One run over one governor; holds the run's head and cursor."""

    def __init__(
        self,
        source: ChainSource,
        gov: GovernorSettings,
        state: SyncState,
        *,
        full: bool,
        votes: bool,
    ) -> None:
        self.src = source
        self.gov = gov
        self.state = state
        self.full = full
        self.votes = votes
        self.reader = GovernorReader(source.rpc, gov.address, gov.kind)
        self.scope = f"governor:{source.chain.chain_id}:{self.reader.address.lower()}"
        self.touched: set[int] = set()
        self.created: set[int] = set()
        self.rewound_from: int | None = None

    def run(self) -> Iterator[SyncItem]:
        rpc = self.src.rpc
        self.head = rpc.block_number()
        self.safe = self.head - self.src.chain.confirmations
        yield SpaceSeen(space=self._space())
        cursor = None if self.full else self.state.get_cursor(SOURCE, self.scope)
        checkpoints = Checkpoints.from_cursor(cursor)
        window = RangeWindow(
            self.src.chain.max_block_range,
            self.src.chain.min_block_range,
            initial=(cursor or {}).get("range"),
        )
        restart = checkpoints.restart_point(rpc, floor=self.gov.start_block)
        if restart is not None:
            # The chain under our cursor changed: forget what the undone blocks said.
            self.rewound_from = restart
            self.src.forget_timestamps(restart)
            checkpoints.truncate(restart)
            yield Rewind(
                space=self.gov.name, from_block=restart, cursor=self._cursor(checkpoints, window)
            )
        last = checkpoints.last_block
        start = self.gov.start_block if last is None else last + 1
        if self.safe >= start:
            for _frm, to, logs in scan_logs(
                rpc, self.reader.address, self.reader.topics, start, self.safe, window
            ):
                yield from self._window(logs)
                end_block = rpc.block(to)
                if end_block is None:
                    raise SourceError(f"chain {self.src.chain.name}: block {to} vanished mid-sync")
                checkpoints.add(to, end_block.hash)
                yield ProposalPage(proposals=[], cursor=self._cursor(checkpoints, window))
        yield from self._refresh()

    # ---- steps ------------------------------------------------------------
    def _space(self) -> Space:
        symbol = None
        if self.reader.token:
            info = self.src.token_info(self.reader.token)
            symbol = info.symbol if info else None
        return Space(
            source=SOURCE,
            id=self.gov.name,
            name=self.reader.name or self.gov.name,
            network=str(self.src.chain.chain_id),
            symbol=symbol,
        )

    def _window(self, logs: list[Any]) -> Iterator[SyncItem]:
        events = sorted(
            (self.reader.decode(log) for log in logs), key=lambda e: (e.block, e.log_index)
        )
        created = [e for e in events if isinstance(e, CreatedEvent)]
        if created:
            self.created.update(e.proposal_id for e in created)
            yield ProposalPage(proposals=[self._proposal(e) for e in created])
        by_proposal: dict[int, list[Vote]] = {}
        for event in events:
            self.touched.add(event.proposal_id)
            if isinstance(event, VoteEvent) and self.votes:
                by_proposal.setdefault(event.proposal_id, []).append(self._vote(event))
        for pid, votes in by_proposal.items():
            yield VotePage(proposal_uid=self._uid(pid), votes=votes)

    def _refresh(self) -> Iterator[SyncItem]:
        refs = [r for r in self.state.refs(SOURCE, self.gov.name) if not r.deleted]
        todo = [r for r in refs if self._needs_refresh(r)]
        gone: list[str] = []
        refreshed: list[Proposal] = []
        complete: list[str] = []
        for ref in todo:
            pid = int(ref.id.rsplit(":", 1)[1])
            if pid in self.created:
                # Read at this run's final block when created: only its vote count is new.
                refreshed.append(self._recounted(ref))
                if ref.state not in ("pending", "active"):
                    complete.append(ref.uid)
                continue
            status = self.reader.state(pid, self.safe)
            if status is None:
                if self.rewound_from is not None and (ref.block or 0) >= self.rewound_from:
                    gone.append(ref.uid)
                continue
            refreshed.append(self._updated(ref, pid, status))
            if status not in ("pending", "active"):
                complete.append(ref.uid)
        if gone:
            yield ProposalsGone(uids=gone)
        yield ProposalPage(proposals=refreshed)
        for uid in complete:
            yield VotePage(proposal_uid=uid, votes=[], complete=True)

    def _needs_refresh(self, ref: ProposalRef) -> bool:
        pid = int(ref.id.rsplit(":", 1)[1])
        return (
            self.full
            or self.rewound_from is not None
            or pid in self.touched
            or ref.state not in FINAL_STATES
        )

    # ---- mapping ----------------------------------------------------------
    def _uid(self, pid: int) -> str:
        return f"{SOURCE}:{self._id(pid)}"

    def _id(self, pid: int) -> str:
        return f"{self.src.chain.chain_id}:{self.reader.address.lower()}:{pid}"

    def _proposal(self, e: CreatedEvent) -> Proposal:
        status = self.reader.state(e.proposal_id, self.safe) or "pending"
        created = utc(self.src.timestamp(e.block, e.block_timestamp))
        actions = [
            RawAction(target=t, value=v, signature=s, calldata=c)
            for t, v, s, c in zip(e.targets, e.values, e.signatures, e.calldatas, strict=True)
        ]
        decoded = decode_actions(
            actions, self.src._known, self.src.token_info, chain_id=self.src.chain.chain_id
        )
        extra = {
            "chain_id": self.src.chain.chain_id,
            "governor": self.reader.address,
            "governor_kind": self.gov.kind,
            "proposal_id": str(e.proposal_id),
            "created_block": e.block,
            "tx": e.tx,
            "vote_start": e.vote_start,
            "vote_end": e.vote_end,
            "clock": "timestamp" if self.reader.uses_timestamps else "block",
            # verbatim, so a fork simulation can execute exactly what the governor holds
            "raw_actions": [a.model_dump(mode="json") for a in actions],
            **actions_extra(decoded),
        }
        return self._with_tally(
            Proposal(
                source=SOURCE,
                space=self.gov.name,
                id=self._id(e.proposal_id),
                title=_title(e.description, e.proposal_id),
                body=e.description,
                choices=list(CHOICES),
                type="basic",
                start=self._when(e.vote_start),
                end=self._when(e.vote_end),
                snapshot_block=e.vote_start,
                state="pending",
                author=e.proposer,
                created=created,
                extra=extra,
            ),
            e.proposal_id,
            status,
        )

    def _updated(self, ref: ProposalRef, pid: int, status: str) -> Proposal:
        stored = self.state.get(ref.uid)
        if stored is None:
            raise SourceError(f"{ref.uid} vanished from the store during sync")
        p: Proposal = stored.proposal
        extra = p.extra
        updated = p.model_copy(
            update={
                "start": self._when(int(required(extra.vote_start, "vote_start"))),
                "end": self._when(int(required(extra.vote_end, "vote_end"))),
            }
        )
        return self._with_tally(updated, pid, status)

    def _recounted(self, ref: ProposalRef) -> Proposal:
        stored = self.state.get(ref.uid)
        if stored is None:
            raise SourceError(f"{ref.uid} vanished from the store during sync")
        return stored.proposal.model_copy(update={"votes_count": self.state.vote_count(ref.uid)})

    def _with_tally(self, p: Proposal, pid: int, status: str) -> Proposal:
        """State, tally and quorum, reading only what can still have changed: a tally is
        fixed once voting ended and was read after that; quorum once read."""
        decimals = self._decimals()
        settled = p.state not in ("pending", "active") and bool(p.scores)
        if settled and pid not in self.touched and self.rewound_from is None:
            scores = list(p.scores)
        else:
            tally = self.reader.tally(pid, self.safe)
            scores = [
                _human(tally.for_, decimals),
                _human(tally.against, decimals),
                _human(tally.abstain, decimals),
            ]
        quorum = (
            self.reader.quorum(int(required(p.extra.vote_start, "vote_start")), self.safe)
            if status != "pending" and (p.quorum is None or self.rewound_from is not None)
            else None
        )
        return p.model_copy(
            update={
                "state": status,
                "scores": scores,
                "scores_total": sum(scores),
                "scores_final": status in FINAL_STATES or status in ("succeeded", "queued"),
                "votes_count": self.state.vote_count(p.uid),
                "quorum": _human(quorum, decimals) if quorum is not None else p.quorum,
            }
        )

    def _vote(self, e: VoteEvent) -> Vote:
        return Vote(
            source=SOURCE,
            id=f"{e.tx}:{e.log_index}",
            proposal_uid=self._uid(e.proposal_id),
            space=self.gov.name,
            voter=e.voter,
            choice=SUPPORT_TO_CHOICE[e.support],
            voting_power=_human(e.weight, self._decimals()),
            reason=e.reason,
            created=utc(self.src.timestamp(e.block, e.block_timestamp)),
            block=e.block,
        )

    def _decimals(self) -> int:
        info = self.src.token_info(self.reader.token) if self.reader.token else None
        return info.decimals if info else 18

    def _when(self, timepoint: int) -> datetime:
        """A governor timepoint as a time: exact when past, estimated when in the future."""
        if self.reader.uses_timestamps:
            return utc(timepoint)
        if timepoint <= self.head:
            return utc(self.src.timestamp(timepoint))
        head_ts = self.src.timestamp(self.head)
        return utc(head_ts + (timepoint - self.head) * self.src.chain.block_time_s)

    def _cursor(self, checkpoints: Checkpoints, window: RangeWindow) -> CursorUpdate:
        value = checkpoints.to_cursor()
        value["range"] = window.size
        return CursorUpdate(source=SOURCE, scope=self.scope, value=value)


def _title(description: str, pid: int) -> str:
    for line in description.splitlines():
        text = line.strip().lstrip("#").strip()
        if text:
            return text[:200]
    return f"Proposal {pid}"


def _human(value: int, decimals: int) -> float:
    return value / 10**decimals
