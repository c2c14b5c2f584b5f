"""Calls inside calls: timelock batches, Compound queues, upgrade-and-call, multicalls."""

from __future__ import annotations

from agent.decode import DecodedAction, RawAction, actions_extra, decode_actions
from agent.decode.decode import MAX_DEPTH
from agent.decode.names import namehash
from tests.decode.calldata import (
    ALICE,
    GOVERNOR,
    KNOWN,
    STRANGER,
    TIMELOCK,
    TREASURY,
    USDC,
    args,
    call,
    oz,
    role,
    short,
)

SCHEDULE_BATCH = "scheduleBatch(address[],uint256[],bytes[],bytes32,bytes32,uint256)"
QUEUE = "queueTransaction(address,uint256,string,bytes,uint256)"


def one(action: RawAction) -> DecodedAction:
    (decoded,) = decode_actions([action], KNOWN)
    return decoded


def test_timelock_batch_decodes_each_inner_call() -> None:
    transfer = call("transfer(address,uint256)", ALICE, 100_000 * 10**6)
    grant = call("grantRole(bytes32,address)", role("SPENDER_ROLE"), ALICE)
    delay = call("updateDelay(uint256)", 60)
    batch = oz(
        TIMELOCK,
        SCHEDULE_BATCH,
        [USDC, TREASURY, TIMELOCK],
        [0, 0, 0],
        [transfer, grant, delay],
        bytes(32),
        b"\x01" * 32,
        2 * 86_400,
    )
    decoded = one(batch)
    assert decoded.summary == "Schedule 3 call(s) on Timelock after 2 days"
    first, second, third = decoded.inner
    assert first.summary.startswith("Transfer 100,000 USDC from Timelock to")
    assert second.summary.startswith("Grant SPENDER_ROLE on Treasury")
    assert third.flags[0].kind == "timelock_delay" and third.flags[0].severity == "high"
    assert decoded.args[2].value[0].startswith("0xa9059cbb")  # payloads kept as hex
    paths = [f["action"] for f in actions_extra([decoded])["action_flags"]]
    assert paths == ["1.1", "1.2", "1.3"]


def test_single_schedule_and_execute_join_the_inner_summary() -> None:
    inner = call("transfer(address,uint256)", ALICE, 10**6)
    schedule = "schedule(address,uint256,bytes,bytes32,bytes32,uint256)"
    decoded = one(oz(TIMELOCK, schedule, USDC, 0, inner, bytes(32), bytes(32), 86_400))
    assert decoded.summary.startswith("Schedule on Timelock after 1 day: Transfer 1 USDC")
    execute = "execute(address,uint256,bytes,bytes32,bytes32)"
    run = one(oz(TIMELOCK, execute, USDC, 0, inner, bytes(32), bytes(32)))
    assert run.summary.startswith("Execute on Timelock: Transfer 1 USDC")


def test_compound_queue_transaction_decodes_its_bravo_style_call() -> None:
    data = args("transfer(address,uint256)", ALICE, 7 * 10**6)
    queued = one(oz(STRANGER, QUEUE, USDC, 0, "transfer(address,uint256)", data, 1_800_000_000))
    assert "for 2027-01-15" in queued.summary
    (inner,) = queued.inner
    assert inner.summary.startswith(f"Transfer 7 USDC from {short(STRANGER)} to")
    assert inner.function == "transfer(address,uint256)"
    assert inner.flags[0].kind == "treasury_outflow"


def test_a_cancelled_compound_call_is_not_flagged() -> None:
    data = args("transfer(address,uint256)", ALICE, 7 * 10**6)
    cancel = "cancelTransaction(address,uint256,string,bytes,uint256)"
    decoded = one(oz(TIMELOCK, cancel, USDC, 0, "transfer(address,uint256)", data, 1))
    assert decoded.inner == [] and decoded.flags == []
    assert "Cancel the queued call 'transfer(address,uint256)' to USDC" in decoded.summary


def test_upgrade_to_and_call_decodes_the_initialiser() -> None:
    init = call("initialize(address,uint256)", TIMELOCK, 42)
    decoded = one(oz(STRANGER, "upgradeToAndCall(address,bytes)", ALICE, init))
    assert decoded.flags[0].kind == "upgrade" and decoded.flags[0].severity == "high"
    (inner,) = decoded.inner
    assert inner.target == STRANGER and inner.function == "initialize(address,uint256)"
    assert inner.args[0].label == "Timelock"
    assert "and call: Initialise" in decoded.summary
    assert not any(f.kind == "unknown_target" for f in inner.flags)  # said once, on the outer


def test_proxy_admin_upgrade_and_call_targets_the_proxy() -> None:
    data = call("store(uint256)", 7)
    decoded = one(
        oz(STRANGER, "upgradeAndCall(address,address,bytes)", TREASURY, ALICE, data, value=1)
    )
    (inner,) = decoded.inner
    assert inner.target == TREASURY and inner.summary == "Call store(7) on Treasury"
    assert inner.value_wei == "0"


def test_resolver_multicall_and_governor_relay() -> None:
    calls = [
        call("setAddr(bytes32,address)", namehash("ens.eth"), ALICE),
        call("setText(bytes32,string,string)", namehash("ens.eth"), "avatar", "x"),
    ]
    multi = one(oz(STRANGER, "multicall(bytes[])", calls))
    assert multi.summary == f"Multicall on {short(STRANGER)}: 2 call(s)"
    assert multi.inner[0].summary.startswith("Point ens.eth at")
    relay = one(
        oz(
            GOVERNOR,
            "relay(address,uint256,bytes)",
            USDC,
            0,
            call("transfer(address,uint256)", ALICE, 1),
        )
    )
    assert relay.summary.startswith("Governor relays a call: Transfer 0.000001 USDC from Governor")


def test_nesting_stops_at_the_depth_cap() -> None:
    data = call("transfer(address,uint256)", ALICE, 1)
    for _ in range(MAX_DEPTH + 2):
        data = call("relay(address,uint256,bytes)", GOVERNOR, 0, data)
    decoded = one(RawAction(target=GOVERNOR, value=0, calldata="0x" + data.hex()))
    depth, node = 0, decoded
    while node.inner:
        node, depth = node.inner[0], depth + 1
    assert depth == MAX_DEPTH
    assert any(f.kind == "undecodable" and "deeper" in f.detail for f in node.flags)


def test_batch_arrays_of_different_lengths_are_flagged() -> None:
    decoded = one(
        oz(TIMELOCK, SCHEDULE_BATCH, [USDC, USDC], [0], [b"", b""], bytes(32), bytes(32), 0)
    )
    assert decoded.flags[0].kind == "undecodable" and "will revert" in decoded.flags[0].detail
    assert decoded.inner == []
