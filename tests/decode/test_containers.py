"""Containers opened: Safe transactions, MultiSend batches, executors, messages to L2s."""

from __future__ import annotations

from eth_utils import to_checksum_address

from agent.decode import DecodedAction, RawAction, decode_actions
from tests.decode.calldata import ALICE, BOB, STRANGER, TIMELOCK, USDC, call, oz

SAFE = to_checksum_address("0x4f2083f5fbede34c2714affb3105539775f7fe64")
MULTISEND = to_checksum_address("0x40a2accbd92bca938b02010e17a5b8929b49130d")
ARBITRUM_INBOX = to_checksum_address("0x4dbd4fc535ac27206064b68ffcf827b0a60bab3f")
OP_MESSENGER = to_checksum_address("0x25ace71c97b33cc4729cf772ae268934f7ab5fa1")
ARB_USDC = to_checksum_address("0xaf88d065e77c8cc2239327c5edb3a432268e5831")
EXEC = "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)"
SCHEDULE = "schedule(address,uint256,bytes,bytes32,bytes32,uint256)"
RETRYABLE = "createRetryableTicket(address,uint256,uint256,address,address,uint256,uint256,bytes)"


def _safe_args(to: str, data: bytes, operation: int = 0) -> list:
    zero = "0x" + "00" * 20
    return [to, 0, data, operation, 0, 0, 0, zero, zero, b""]


def _safe_tx(to: str, data: bytes, operation: int = 0) -> bytes:
    return call(EXEC, *_safe_args(to, data, operation))


def _packed(*entries: tuple[int, str, int, bytes]) -> bytes:
    """MultiSend's encoding: operation, to, value, length, data, back to back."""
    out = b""
    for operation, to, value, data in entries:
        out += bytes([operation]) + bytes.fromhex(to[2:]) + value.to_bytes(32, "big")
        out += len(data).to_bytes(32, "big") + data
    return out


def _one(action: RawAction) -> DecodedAction:
    (decoded,) = decode_actions([action])
    return decoded


def _kinds(action: DecodedAction) -> dict[str, str]:
    return {f.kind: f.severity for f in action.flags}


def test_a_safe_transaction_is_opened_and_made_by_the_safe() -> None:
    transfer = call("transfer(address,uint256)", ALICE, 5 * 10**6)
    decoded = _one(oz(SAFE, EXEC, *_safe_args(USDC, transfer)))
    assert decoded.effect == "container"
    (inner,) = decoded.inner
    assert inner.summary == f"Transfer 5 USDC from 0x4F20…FE64 to {ALICE[:6]}…{ALICE[-4:]}"
    assert not inner.delegatecall and _kinds(inner)["treasury_outflow"] == "warn"


def test_a_multisend_batch_run_by_delegatecall_makes_its_calls_as_the_safe() -> None:
    batch = _packed(
        (0, USDC, 0, call("transfer(address,uint256)", ALICE, 10**6)),
        (0, BOB, 10**18, b""),
        (1, STRANGER, 0, call("upgradeTo(address)", ALICE)),
    )
    decoded = _one(oz(SAFE, EXEC, *_safe_args(MULTISEND, call("multiSend(bytes)", batch), 1)))
    (multisend,) = decoded.inner
    assert multisend.delegatecall and _kinds(multisend)["delegatecall"] == "info"
    transfer, ether, foreign = multisend.inner
    # for a simulator: who makes each call (the Safe, also for the library it delegatecalls)
    assert decoded.caller is None and multisend.caller == SAFE
    assert {transfer.caller, ether.caller, foreign.caller} == {SAFE}
    assert transfer.summary.startswith("Transfer 1 USDC from 0x4F20…FE64")
    assert ether.value_eth == "1" and _kinds(ether)["eth_value"] == "warn"
    # a delegatecall into code nobody opened: high
    assert foreign.delegatecall and _kinds(foreign)["delegatecall"] == "high"
    assert _kinds(foreign)["upgrade"] == "high"


def test_a_broken_multisend_batch_is_flagged() -> None:
    batch = _packed((0, USDC, 0, call("transfer(address,uint256)", ALICE, 1)))[:-10]
    decoded = _one(oz(MULTISEND, "multiSend(bytes)", batch))
    assert _kinds(decoded)["undecodable"] == "high" and decoded.inner == []


def test_nesting_to_depth_four_keeps_the_meaning() -> None:
    transfer = call("transfer(address,uint256)", ALICE, 7 * 10**6)
    batch = call("multiSend(bytes)", _packed((0, USDC, 0, transfer)))
    safe_tx = _safe_tx(MULTISEND, batch, operation=1)
    scheduled = oz(TIMELOCK, SCHEDULE, SAFE, 0, safe_tx, bytes(32), bytes(32), 86_400)
    node = _one(scheduled)
    for _ in range(3):
        (node,) = node.inner
    assert node.summary.startswith("Transfer 7 USDC from 0x4F20…FE64")
    assert node.effect == "outflow"


def test_an_arbitrum_retryable_ticket_is_opened_on_arbitrum_with_its_tokens() -> None:
    l2_call = call("transfer(address,uint256)", ALICE, 3 * 10**6)
    decoded = _one(oz(ARBITRUM_INBOX, RETRYABLE, ARB_USDC, 0, 0, BOB, BOB, 100_000, 10**9, l2_call))
    assert decoded.effect == "cross_chain" and _kinds(decoded)["cross_chain"] == "warn"
    (inner,) = decoded.inner
    # the L2 call is named from the Arbitrum One entries of the address book (Aave's list,
    # which calls native USDC by its asset key, USDCn)
    assert inner.chain == "Arbitrum One" and inner.target_name == "USDCn"
    assert inner.caller is None  # the proposal's executor is not known here
    assert inner.summary.startswith("Transfer 3 USDCn")


def test_a_retryable_from_a_known_sender_arrives_from_its_l2_alias() -> None:
    l2_call = call("transfer(address,uint256)", ALICE, 1)
    ticket = call(RETRYABLE, ARB_USDC, 0, 0, BOB, BOB, 100_000, 10**9, l2_call)
    decoded = _one(oz(TIMELOCK, SCHEDULE, ARBITRUM_INBOX, 0, ticket, bytes(32), bytes(32), 0))
    (on_l2,) = decoded.inner[0].inner
    alias = (int(TIMELOCK, 16) + 0x1111000000000000000000000000000000001111) % 2**160
    assert on_l2.caller == to_checksum_address(alias.to_bytes(20, "big"))


def test_an_optimism_message_is_opened_on_op_mainnet() -> None:
    message = call("upgradeTo(address)", ALICE)
    decoded = _one(oz(OP_MESSENGER, "sendMessage(address,bytes,uint32)", STRANGER, message, 1))
    (inner,) = decoded.inner
    assert inner.chain == "OP Mainnet" and _kinds(inner)["upgrade"] == "high"


def test_an_l2_message_to_ethereum_and_an_executor_delegatecall() -> None:
    action = call("upgradeTo(address)", ALICE)
    upgrade = call("execute(address,bytes)", STRANGER, action)
    arbsys = "0x0000000000000000000000000000000000000064"
    decoded = _one(oz(arbsys, "sendTxToL1(address,bytes)", TIMELOCK, upgrade))
    (on_l1,) = decoded.inner
    assert on_l1.chain == "Ethereum" and on_l1.effect == "container"
    (run,) = on_l1.inner
    assert run.delegatecall and run.chain == "Ethereum" and _kinds(run)["upgrade"] == "high"


def test_an_unopened_message_is_still_flagged_as_cross_chain() -> None:
    fx_root = "0xfe5e5D361b2ad62c541bAb87C45a0B9B018389a2"
    decoded = _one(oz(fx_root, "sendMessageToChild(address,bytes)", STRANGER, b"\x01\x02"))
    assert _kinds(decoded)["cross_chain"] == "warn" and decoded.inner == []
    assert "not decoded" in decoded.summary


def test_a_delegatecall_raw_action_is_a_field_and_a_flag() -> None:
    payload = RawAction(
        target=STRANGER, value=0, signature="execute()", calldata="0x", delegatecall=True
    )
    decoded = _one(payload)
    assert decoded.delegatecall and decoded.function == "execute()"
    assert _kinds(decoded)["delegatecall"] == "high"
