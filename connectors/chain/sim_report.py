"""Read what an execution on the fork did: per-action outcomes (call traces), ETH and token
movements, ownership/role/admin/implementation changes, storage diffs and gas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from eth_utils import keccak
from web3 import Web3

from agent.decode.models import RawAction, TokenInfo
from agent.decode.names import role_name
from agent.records.simulation import (
    ActionOutcome,
    AdminChange,
    EthChange,
    StorageChange,
    TokenMove,
)
from agent.simulate.reverts import describe_revert
from connectors.chain.sim_exec import Chain, Execution, calldata

TokenLookup = Callable[[str], TokenInfo | None]


def _topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


TRANSFER = _topic("Transfer(address,address,uint256)")
APPROVAL = _topic("Approval(address,address,uint256)")
OWNERSHIP = _topic("OwnershipTransferred(address,address)")
ROLE_GRANTED = _topic("RoleGranted(bytes32,address,address)")
ROLE_REVOKED = _topic("RoleRevoked(bytes32,address,address)")
UPGRADED = _topic("Upgraded(address)")
ADMIN_CHANGED = _topic("AdminChanged(address,address)")
BEACON = _topic("BeaconUpgraded(address)")
NEW_ADMIN = _topic("NewAdmin(address)")
SLOTS = {
    "implementation": int.from_bytes(keccak(text="eip1967.proxy.implementation"), "big") - 1,
    "admin": int.from_bytes(keccak(text="eip1967.proxy.admin"), "big") - 1,
    "beacon": int.from_bytes(keccak(text="eip1967.proxy.beacon"), "big") - 1,
}
SAMPLE_SLOTS = 3


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text


def _addr(word: Any) -> str:
    raw = bytes.fromhex(_hex(word)[2:].rjust(64, "0"))
    return Web3.to_checksum_address(raw[-20:])


def _int(value: Any) -> int:
    if isinstance(value, int):
        return value
    text = _hex(value)
    return int(text, 16) if text != "0x" else 0


def human(raw: int, decimals: int | None) -> str | None:
    if decimals is None:
        return None
    value = Decimal(raw).scaleb(-decimals)
    return f"{value.normalize():f}"


# ---------------------------------------------------------------- call traces
def _frames(frame: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield frame
    for child in frame.get("calls") or []:
        yield from _frames(child)


def call_trace(chain: Chain, tx: str) -> dict[str, Any] | None:
    try:
        result = chain.rpc("debug_traceTransaction", [tx, {"tracer": "callTracer"}])
    except Exception:  # noqa: BLE001 - a node without the tracer still gets receipts
        return None
    return dict(result) if isinstance(result, dict) else None


def _frame_outcome(i: int, action: RawAction, frame: dict[str, Any] | None) -> ActionOutcome:
    base = {"index": i, "target": Web3.to_checksum_address(action.target)}
    base["value_wei"] = str(action.value)
    if frame is None:
        return ActionOutcome(**base, status="not_reached")
    error = frame.get("error")
    reason = describe_revert(bytes.fromhex(_hex(frame.get("output", "0x"))[2:])) if error else None
    return ActionOutcome(
        **base,
        status="reverted" if error else "success",
        reason=reason,
        gas_used=_int(frame.get("gasUsed", 0)),
    )


def _match(frames: list[dict[str, Any]], executor: str, actions: list[RawAction]) -> list[Any]:
    """The executor's call for each action, in order (None where it never happened)."""
    found: list[dict[str, Any] | None] = []
    pos = 0
    for action in actions:
        want = (action.target.lower(), "0x" + calldata(action).hex())
        hit = None
        for j in range(pos, len(frames)):
            f = frames[j]
            seen = (str(f.get("to", "")).lower(), _hex(f.get("input", "0x")).lower())
            if str(f.get("from", "")).lower() == executor.lower() and seen == want:
                hit, pos = f, j + 1
                break
        found.append(hit)
    return found


def action_outcomes(chain: Chain, ex: Execution, actions: list[RawAction]) -> list[ActionOutcome]:
    if ex.method == "governor":
        tx = ex.txs[0]
        trace = call_trace(chain, tx)
        frames = list(_frames(trace)) if trace else []
        outcomes = [
            _frame_outcome(i, a, f)
            for i, a, f in _with(actions, _match(frames, ex.executor, actions))
        ]
        if not chain.ok(tx) and not any(o.status == "reverted" for o in outcomes):
            first = next(
                (o for o in outcomes if o.status == "not_reached"),
                outcomes[-1] if outcomes else None,
            )
            reason = describe_revert(bytes.fromhex(_hex((trace or {}).get("output", "0x"))[2:]))
            if first is not None:
                outcomes[first.index] = first.model_copy(
                    update={"status": "reverted", "reason": reason}
                )
        return outcomes
    outcomes = []
    sent = iter(ex.txs)
    for i, action in enumerate(actions):
        if i in ex.send_errors:
            outcomes.append(
                ActionOutcome(
                    index=i,
                    target=action.target,
                    value_wei=str(action.value),
                    status="reverted",
                    reason=ex.send_errors[i],
                )
            )
            continue
        trace = call_trace(chain, next(sent))
        outcomes.append(_frame_outcome(i, action, trace))
    return outcomes


def _with(actions: list[RawAction], frames: list[Any]) -> Iterator[tuple[int, RawAction, Any]]:
    for i, (action, frame) in enumerate(zip(actions, frames, strict=True)):
        yield i, action, frame


def with_code(chain: Chain, outcomes: list[ActionOutcome], block: int) -> list[ActionOutcome]:
    codes: dict[str, bool] = {}
    for o in outcomes:
        if o.target not in codes:
            codes[o.target] = (
                len(chain.w3.eth.get_code(Web3.to_checksum_address(o.target), block)) > 0
            )
    return [o.model_copy(update={"target_has_code": codes[o.target]}) for o in outcomes]


# ---------------------------------------------------------------- logs
def receipts(chain: Chain, ex: Execution) -> list[Any]:
    return [chain.w3.eth.get_transaction_receipt(tx) for tx in ex.txs]  # type: ignore[arg-type]


def _logs(recs: list[Any]) -> Iterator[Any]:
    for r in recs:
        if int(r["status"]) == 1:
            yield from r["logs"]


def token_moves(recs: list[Any], token_info: TokenLookup) -> list[TokenMove]:
    moves: list[TokenMove] = []
    for log in _logs(recs):
        topics = [_hex(t) for t in log["topics"]]
        if len(topics) != 3 or topics[0] not in (TRANSFER, APPROVAL):
            continue  # ERC-721 Transfer has 4 topics; others are not ours
        token = Web3.to_checksum_address(log["address"])
        info = token_info(token)
        raw = _int(log["data"])
        moves.append(
            TokenMove(
                kind="transfer" if topics[0] == TRANSFER else "approval",
                token=token,
                symbol=info.symbol if info else None,
                decimals=info.decimals if info else None,
                source=_addr(topics[1]),
                destination=_addr(topics[2]),
                amount_raw=str(raw),
                amount=human(raw, info.decimals if info else None),
            )
        )
    return moves


def _role(word: str) -> str:
    """The role's name where known (`SPENDER_ROLE`), else its hash."""
    if int(word, 16) == 0:
        return "DEFAULT_ADMIN_ROLE"
    return role_name(bytes.fromhex(word[2:])) or word


def admin_events(recs: list[Any]) -> list[AdminChange]:
    out: list[AdminChange] = []
    for log in _logs(recs):
        topics = [_hex(t) for t in log["topics"]]
        if not topics:
            continue
        where = Web3.to_checksum_address(log["address"])
        kind, data = topics[0], _hex(log["data"])
        if kind == OWNERSHIP and len(topics) == 3:
            before, after = _addr(topics[1]), _addr(topics[2])
            out.append(
                AdminChange(
                    kind="ownership",
                    contract=where,
                    before=before,
                    after=after,
                    detail=f"owner {before} → {after}",
                )
            )
        elif kind in (ROLE_GRANTED, ROLE_REVOKED) and len(topics) == 4:
            granted = kind == ROLE_GRANTED
            role, account = _role(topics[1]), _addr(topics[2])
            verb = f"granted {role} to" if granted else f"revoked {role} from"
            out.append(
                AdminChange(
                    kind="role_granted" if granted else "role_revoked",
                    contract=where,
                    role=role,
                    account=account,
                    detail=f"{verb} {account}",
                )
            )
        elif kind == ADMIN_CHANGED and len(data) >= 130:
            before, after = _addr(data[2:66]), _addr(data[66:130])
            out.append(
                AdminChange(
                    kind="admin",
                    contract=where,
                    before=before,
                    after=after,
                    detail=f"proxy admin {before} → {after}",
                )
            )
        elif kind == NEW_ADMIN and len(topics) == 2:
            after = _addr(topics[1])
            out.append(
                AdminChange(kind="admin", contract=where, after=after, detail=f"new admin {after}")
            )
        elif kind in (UPGRADED, BEACON) and len(topics) == 2:
            after = _addr(topics[1])
            label = "implementation" if kind == UPGRADED else "beacon"
            out.append(
                AdminChange(kind=label, contract=where, after=after, detail=f"{label} → {after}")
            )
    return out


def slot_changes(chain: Chain, contracts: set[str], before: int) -> list[AdminChange]:
    """EIP-1967 implementation/admin/beacon slots that differ before and after."""
    out: list[AdminChange] = []
    for contract in sorted(contracts):
        address = Web3.to_checksum_address(contract)
        for kind, slot in SLOTS.items():
            old = _int(chain.w3.eth.get_storage_at(address, slot, before))
            new = _int(chain.w3.eth.get_storage_at(address, slot, "latest"))
            if old != new:
                a, b = _addr(hex(old)), _addr(hex(new))
                out.append(
                    AdminChange(
                        kind=kind,
                        contract=address,
                        before=a,
                        after=b,
                        detail=f"EIP-1967 {kind} slot {a} → {b}",
                    )
                )
    return out


def merge_admin(events: list[AdminChange], slots: list[AdminChange]) -> list[AdminChange]:
    """Slot readings win over events of the same kind and contract (they carry `before`)."""
    covered = {(s.kind, s.contract) for s in slots}
    return slots + [e for e in events if (e.kind, e.contract) not in covered]


# ---------------------------------------------------------------- state diffs
def prestate_diffs(chain: Chain, txs: list[str]) -> list[dict[str, Any]] | None:
    """diff-mode prestate traces per transaction; None when the node has no such tracer."""
    out = []
    for tx in txs:
        try:
            result = chain.rpc(
                "debug_traceTransaction",
                [tx, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}],
            )
        except Exception:  # noqa: BLE001 - the node does not offer it
            return None
        if not isinstance(result, dict) or "pre" not in result:
            return None
        out.append(dict(result))
    return out


def storage_changes(diffs: list[dict[str, Any]]) -> list[StorageChange]:
    first: dict[tuple[str, str], str] = {}  # (contract, slot) → value
    last: dict[tuple[str, str], str] = {}
    for diff in diffs:
        pre, post = diff.get("pre") or {}, diff.get("post") or {}
        for account in set(pre) | set(post):
            before = dict((pre.get(account) or {}).get("storage") or {})
            after = dict((post.get(account) or {}).get("storage") or {})
            for slot in set(before) | set(after):
                key = (str(Web3.to_checksum_address(account)), str(slot))
                first.setdefault(key, before.get(slot, "0x" + "00" * 32))
                last[key] = after.get(slot, "0x" + "00" * 32)
    per: dict[str, list[tuple[str, str, str]]] = {}
    for key, old in first.items():
        if _int(old) != _int(last[key]):
            per.setdefault(key[0], []).append((key[1], old, last[key]))
    return [
        StorageChange(contract=c, slots=len(s), sample=sorted(s)[:SAMPLE_SLOTS])
        for c, s in sorted(per.items())
    ]


def touched_accounts(diffs: list[dict[str, Any]] | None) -> set[str]:
    if not diffs:
        return set()
    return {
        Web3.to_checksum_address(a)
        for d in diffs
        for part in ("pre", "post")
        for a in (d.get(part) or {})
    }


def eth_changes(
    chain: Chain, ex: Execution, recs: list[Any], accounts: set[str]
) -> list[EthChange]:
    """Balance after minus before, plus the gas the account paid here (not the proposal's doing)."""
    miners = {
        Web3.to_checksum_address(chain.w3.eth.get_block(int(r["blockNumber"]))["miner"])
        for r in recs
    }
    fees: dict[str, int] = {}
    for r in recs:
        payer = Web3.to_checksum_address(r["from"])
        fees[payer] = fees.get(payer, 0) + int(r["gasUsed"]) * int(r.get("effectiveGasPrice", 0))
    changes = []
    for account in sorted(accounts - miners - ex.helpers):
        who = Web3.to_checksum_address(account)
        before = int(chain.w3.eth.get_balance(who, ex.before_block))
        after = int(chain.w3.eth.get_balance(who, "latest"))
        delta = after - before + fees.get(account, 0)
        if delta:
            changes.append(
                EthChange(
                    address=account,
                    before_wei=str(before),
                    after_wei=str(after),
                    delta_wei=str(delta),
                    delta_eth=human(delta, 18) or "0",
                )
            )
    return changes
