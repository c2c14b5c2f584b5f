"""ForkSimulator: the `Simulator` port on a throw-away anvil fork of the proposal's chain.

Whatever goes wrong (no RPC, no archive state, anvil missing or crashing, a proposal that
can never execute, the time limit) becomes a report that says "not simulated" and why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import requests
from web3 import Web3
from web3.exceptions import Web3Exception

from agent.decode.models import KnownContract
from agent.errors import SimulationFailed
from agent.records.simulation import (
    ActionOutcome,
    SimFlag,
    SimulationReport,
    SimulationRequest,
    not_simulated,
)
from connectors.chain import sim_report as rep
from connectors.chain.fork import ForkNode, fork, redact
from connectors.chain.rpc import ChainRpc
from connectors.chain.sim_exec import Chain, Execution, calldata, execute
from connectors.chain.tokens import TokenDirectory

_ARCHIVE = ("missing trie node", "historical state", "not available", "pruned", "archive")


class ForkSimulator:
    def __init__(
        self,
        upstream_url: str,
        *,
        known: Sequence[KnownContract] = (),
        timeout_s: float = 120.0,
        anvil: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._url = upstream_url
        self.known = list(known)
        self.timeout_s = timeout_s
        self.anvil = anvil
        self.clock = clock

    def simulate(self, req: SimulationRequest) -> SimulationReport:
        started = time.monotonic()
        try:
            return self._simulate(req, started)
        except SimulationFailed as exc:
            return not_simulated(req, _classified(redact(str(exc), self._url)), self.clock())
        except (requests.RequestException, ConnectionError) as exc:
            return not_simulated(req, _connection_why(exc, started, self.timeout_s), self.clock())
        except (Web3Exception, ValueError) as exc:
            return not_simulated(req, _web3_why(redact(str(exc), self._url)), self.clock())

    def _deadline(self, started: float) -> Callable[[], None]:
        def check() -> None:
            if time.monotonic() - started > self.timeout_s:
                raise SimulationFailed(f"time limit exceeded ({self.timeout_s:g} s)")

        return check

    def _simulate(self, req: SimulationRequest, started: float) -> SimulationReport:
        if not self._url:
            raise SimulationFailed("the chain has no RPC URL configured")
        with fork(self._url, block=req.block, binary=self.anvil) as node:
            forked = time.monotonic()
            chain = Chain(_web3(node, self.timeout_s), self._deadline(started))
            fork_block = chain.w3.eth.block_number
            try:
                ex = execute(chain, req)
            except (requests.RequestException, ConnectionError) as exc:
                if not node.alive():
                    raise SimulationFailed("anvil crashed during the simulation") from exc
                raise
            executed = time.monotonic()
            report = self._report(chain, req, ex, fork_block)
        done = time.monotonic()
        timings = {
            "fork_s": forked - started,
            "execute_s": executed - forked,
            "report_s": done - executed,
        }
        return report.model_copy(update={"timings": timings})

    def _report(
        self, chain: Chain, req: SimulationRequest, ex: Execution, fork_block: int
    ) -> SimulationReport:
        tokens = TokenDirectory(ChainRpc.from_web3(chain.w3, label="fork"), self.known)
        recs = rep.receipts(chain, ex)
        outcomes = rep.with_code(
            chain, rep.action_outcomes(chain, ex, req.actions), ex.before_block
        )
        diffs = rep.prestate_diffs(chain, ex.txs)
        touched = rep.touched_accounts(diffs) | {o.target for o in outcomes} | {ex.executor}
        emitters = {Web3.to_checksum_address(log["address"]) for r in recs for log in r["logs"]}
        admin = rep.merge_admin(
            rep.admin_events(recs), rep.slot_changes(chain, touched | emitters, ex.before_block)
        )
        return SimulationReport(
            uid=req.uid,
            content_hash=req.content_hash,
            status="simulated",
            method=ex.method,
            method_note=ex.note,
            executor=ex.executor,
            fork_block=fork_block,
            actions=outcomes,
            eth_changes=rep.eth_changes(chain, ex, recs, touched),
            token_moves=rep.token_moves(recs, tokens.info),
            admin_changes=admin,
            storage=rep.storage_changes(diffs) if diffs is not None else [],
            storage_note=None
            if diffs is not None
            else "not available: the node offers no prestateTracer diff mode",
            gas_used=sum(int(r["gasUsed"]) for r in recs),
            flags=_flags(outcomes, req),
            created=self.clock(),
        )


def _flags(outcomes: list[ActionOutcome], req: SimulationRequest) -> list[SimFlag]:
    flags = [
        SimFlag(kind="revert", severity="high", detail=f"action {o.index + 1} reverts: {o.reason}")
        for o in outcomes
        if o.status == "reverted"
    ]
    flags += [
        SimFlag(
            kind="no_code_target",
            severity="warn",
            detail=f"action {o.index + 1} calls {o.target}, which has no code",
        )
        for o in outcomes
        if not o.target_has_code and o.status != "not_reached" and calldata(req.actions[o.index])
    ]
    return flags


def _web3(node: ForkNode, timeout: float) -> Web3:
    return Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": timeout}))


def _connection_why(exc: Exception, started: float, limit: float) -> str:
    if time.monotonic() - started > limit:
        return f"time limit exceeded ({limit:g} s)"
    return f"the fork stopped answering ({exc.__class__.__name__})"


def _classified(message: str) -> str:
    """An upstream state read that failed for want of history says so plainly."""
    if "failed on the fork" in message and any(m in message.lower() for m in _ARCHIVE):
        return "the chain's RPC has no archive state for that block"
    return message


def _web3_why(message: str) -> str:
    if any(marker in message.lower() for marker in _ARCHIVE):
        return "the chain's RPC has no archive state for that block"
    return f"the fork failed: {message[:300]}"
