"""Execute a proposal on a fork as its governor would, else as its executor would.

Governor path (OpenZeppelin and Bravo): reach the voting window, cast FOR with the largest
known holders (impersonated), pass the deadline, queue, wait out the timelock, execute.
When that state cannot be reached (defeated, quorum out of reach, no timelock reads), each
action is sent in order, with its value, from the impersonated timelock (or the governor).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3Exception

from agent.decode.models import RawAction
from agent.errors import SimulationFailed
from agent.records.simulation import Method, SimulationRequest

STATES = ("pending", "active", "canceled", "defeated", "succeeded", "queued", "expired", "executed")
NEVER = frozenset({"canceled", "executed", "expired"})
MAX_HOLDERS = 20
MAX_MINED_BLOCKS = 1_000
"""anvil mines block by block, each slower than the last (about 2 s for 1,000, 30 s for
5,000 here): a governor whose voting ends further ahead in blocks is run from its timelock."""


@dataclass
class Execution:
    """What was sent, for the report: the execution transactions and who executed."""

    method: Method
    note: str
    executor: str
    txs: list[str] = field(default_factory=list)
    before_block: int = 0
    """The last block before the first execution transaction (the "before" state)."""
    send_errors: dict[int, str] = field(default_factory=dict)
    """Action index → why the node refused to send it (e.g. the executor lacks the ETH)."""
    helpers: set[str] = field(default_factory=set)
    """Accounts that only paid gas for the simulation (left out of balance changes)."""


def calldata(action: RawAction) -> bytes:
    """What the executor sends: Bravo's selector-from-signature + args, or the calldata."""
    data = bytes.fromhex(action.calldata.removeprefix("0x"))
    if action.signature:
        return function_signature_to_4byte_selector(action.signature) + data
    return data


class Chain:
    """The few raw calls the fork needs (anvil methods included)."""

    def __init__(self, w3: Web3, check: Callable[[], None]) -> None:
        self.w3 = w3
        self.check = check
        self.sender = Web3.to_checksum_address(w3.eth.accounts[0])

    def rpc(self, method: str, params: list[Any]) -> Any:
        self.check()
        reply = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in reply:
            raise SimulationFailed(f"{method} failed on the fork: {reply['error'].get('message')}")
        return reply.get("result")

    def call(self, to: str, signature: str, types: list[str], args: list[Any]) -> bytes | None:
        """eth_call; None when it reverts (the function may not exist on this governor)."""
        self.check()
        data = function_signature_to_4byte_selector(signature) + encode(types, args)
        try:
            return bytes(self.w3.eth.call({"to": Web3.to_checksum_address(to), "data": data}))
        except (ContractLogicError, ValueError, Web3Exception):
            return None

    def uint(self, to: str, signature: str, types: list[str], args: list[Any]) -> int | None:
        out = self.call(to, signature, types, args)
        return int.from_bytes(out[:32], "big") if out and len(out) >= 32 else None

    def address(self, to: str, signature: str) -> str | None:
        value = self.uint(to, signature, [], [])
        if not value:
            return None
        return Web3.to_checksum_address(value.to_bytes(32, "big")[12:])

    def send(self, sender: str, to: str, data: bytes, value: int = 0) -> str:
        """Send as `sender` (impersonated), zero gas price, explicit gas; returns the hash."""
        self.rpc("anvil_impersonateAccount", [sender])
        self.rpc("anvil_setNextBlockBaseFeePerGas", ["0x0"])
        gas = int(self.w3.eth.get_block("latest")["gasLimit"]) // 2
        tx = {
            "from": sender,
            "to": Web3.to_checksum_address(to),
            "data": "0x" + data.hex(),
            "value": hex(value),
            "gas": hex(gas),
            "gasPrice": "0x0",
        }
        tx_hash = str(self.rpc("eth_sendTransaction", [tx]))
        self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)  # type: ignore[arg-type]
        return tx_hash

    def ok(self, tx_hash: str) -> bool:
        return int(self.w3.eth.get_transaction_receipt(tx_hash)["status"]) == 1  # type: ignore[arg-type]

    def mine_blocks(self, count: int) -> None:
        if count > 0:
            self.rpc("anvil_mine", [hex(count), "0x1"])

    def warp_to(self, timestamp: int) -> None:
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        self.rpc("evm_setNextBlockTimestamp", [hex(max(timestamp, now + 1))])
        self.rpc("evm_mine", [])


class GovernorPath:
    """The real queue/execute path on one governor; `run` returns None when out of reach."""

    def __init__(self, chain: Chain, req: SimulationRequest) -> None:
        self.c = chain
        self.req = req
        self.gov = Web3.to_checksum_address(req.governor)
        self.oz = req.governor_kind == "oz"
        self.why = ""

    def state(self) -> str | None:
        value = self.c.uint(self.gov, "state(uint256)", ["uint256"], [self.req.proposal_id])
        return STATES[value] if value is not None and value < len(STATES) else None

    def executor(self) -> str:
        """The timelock (both kinds call it `timelock()`); else the governor itself."""
        return self.c.address(self.gov, "timelock()") or self.gov

    def window(self) -> tuple[int, int] | None:
        pid = self.req.proposal_id
        if self.oz:
            start = self.c.uint(self.gov, "proposalSnapshot(uint256)", ["uint256"], [pid])
            end = self.c.uint(self.gov, "proposalDeadline(uint256)", ["uint256"], [pid])
            return (start, end) if start is not None and end is not None else None
        out = self.c.call(self.gov, "proposals(uint256)", ["uint256"], [pid])
        if not out or len(out) < 160:
            return None
        return int.from_bytes(out[96:128], "big"), int.from_bytes(out[128:160], "big")

    def uses_timestamps(self) -> bool:
        clock = self.c.uint(self.gov, "clock()", [], []) if self.oz else None
        return clock is not None and clock > self.c.w3.eth.block_number + 1_000_000

    def advance_past(self, point: int) -> None:
        """Move the clock (blocks or seconds) until `point` is in the past."""
        if self.uses_timestamps():
            self.c.warp_to(point + 1)
        else:
            self.c.mine_blocks(point + 1 - self.c.w3.eth.block_number)

    def vote_for(self) -> int:
        """FOR votes from the largest known holders who have not voted; returns how many."""
        cast = 0
        data = function_signature_to_4byte_selector("castVote(uint256,uint8)")
        data += encode(["uint256", "uint8"], [self.req.proposal_id, 1])
        for holder in self.req.holders[:MAX_HOLDERS]:
            self.c.rpc("anvil_setBalance", [holder, hex(10**18)])
            if self.c.ok(self.c.send(Web3.to_checksum_address(holder), self.gov, data)):
                cast += 1
        return cast

    def queue_and_execute(self, execution: Execution) -> None:
        pid = self.req.proposal_id
        if self.oz:
            acts = self.req.actions
            args = [
                [Web3.to_checksum_address(a.target) for a in acts],
                [a.value for a in acts],
                [calldata(a) for a in acts],
                keccak(text=self.req.description),
            ]
            types = ["address[]", "uint256[]", "bytes[]", "bytes32"]
            suffix = "(address[],uint256[],bytes[],bytes32)"
            queue = function_signature_to_4byte_selector("queue" + suffix) + encode(types, args)
            run = function_signature_to_4byte_selector("execute" + suffix) + encode(types, args)
        else:
            queue = function_signature_to_4byte_selector("queue(uint256)") + encode(
                ["uint256"], [pid]
            )
            run = function_signature_to_4byte_selector("execute(uint256)") + encode(
                ["uint256"], [pid]
            )
        if (
            self.state() == "succeeded"
            and self._needs_queuing()
            and not self.c.ok(self.c.send(self.c.sender, self.gov, queue))
        ):
            raise _OutOfReach("queue() reverted")
        eta = self._eta()
        if eta:
            self.c.warp_to(eta)
        execution.before_block = self.c.w3.eth.block_number
        execution.txs.append(self.c.send(self.c.sender, self.gov, run))

    def _needs_queuing(self) -> bool:
        """OZ 5 says so (a governor without a timelock executes at once); Bravo always queues."""
        if not self.oz:
            return True
        pid = self.req.proposal_id
        needs = self.c.uint(self.gov, "proposalNeedsQueuing(uint256)", ["uint256"], [pid])
        return needs is None or needs != 0

    def _eta(self) -> int | None:
        pid = self.req.proposal_id
        if self.oz:
            return self.c.uint(self.gov, "proposalEta(uint256)", ["uint256"], [pid])
        out = self.c.call(self.gov, "proposals(uint256)", ["uint256"], [pid])
        return int.from_bytes(out[64:96], "big") if out and len(out) >= 96 else None

    def run(self) -> Execution | None:
        try:
            return self._run()
        except _OutOfReach as exc:
            self.why = str(exc)
            return None

    def _run(self) -> Execution | None:
        state = self.state()
        if state is None:
            raise _OutOfReach("the governor does not answer state() for this proposal")
        if state in NEVER:
            raise SimulationFailed(f"the proposal is {state} at that block: it can never execute")
        window = self.window()
        if state in ("pending", "active") and window is None:
            raise _OutOfReach("the governor's voting window could not be read")
        if state in ("pending", "active") and window and not self.uses_timestamps():
            ahead = window[1] + 1 - self.c.w3.eth.block_number
            if ahead > MAX_MINED_BLOCKS:
                raise _OutOfReach(
                    f"voting ends {ahead:,} blocks ahead, more than the {MAX_MINED_BLOCKS:,} "
                    "anvil can mine in reasonable time"
                )
        note = f"governor path from state {state}"
        if state == "pending" and window:
            self.advance_past(window[0])
            state = self.state()
        if state == "active" and window:
            cast = self.vote_for()
            self.advance_past(window[1])
            state = self.state()
            note += f"; {cast} holder(s) voted FOR"
        if state not in ("succeeded", "queued"):
            raise _OutOfReach(f"the proposal reached {state}, not succeeded (quorum or votes)")
        execution = Execution("governor", note, self.executor(), helpers={self.c.sender})
        self.queue_and_execute(execution)
        return execution


class _OutOfReach(Exception):
    """The governor path cannot be taken on this fork; the fallback runs instead."""


def impersonate_executor(
    chain: Chain, req: SimulationRequest, executor: str, why: str
) -> Execution:
    """Each action from the timelock (impersonated), in order, with its value."""
    execution = Execution(
        "timelock_impersonation",
        f"governor path out of reach ({why}); actions sent from the executor",
        executor,
        before_block=chain.w3.eth.block_number,
    )
    for i, action in enumerate(req.actions):
        try:
            execution.txs.append(
                chain.send(executor, action.target, calldata(action), action.value)
            )
        except SimulationFailed as exc:
            execution.send_errors[i] = str(exc)
    return execution


def execute(chain: Chain, req: SimulationRequest) -> Execution:
    """The governor path where it can be reached, else the executor's; never half-chosen:
    the fork is rolled back to its start before the fallback runs."""
    # Each block one second after the last, not at wall-clock time: the same proposal on the
    # same fork block gives the same report (and hash), however busy the machine is.
    chain.rpc("anvil_setBlockTimestampInterval", [1])
    snapshot = chain.rpc("evm_snapshot", [])
    path = GovernorPath(chain, req)
    executor = path.executor()
    done = path.run()
    if done is not None:
        return done
    chain.rpc("evm_revert", [snapshot])
    return impersonate_executor(chain, req, executor, path.why)
