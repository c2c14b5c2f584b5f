"""Hostile input: nothing a proposer can put on chain makes the decoder raise or stall."""

from __future__ import annotations

import json
import random

import pytest
from eth_abi import encode

from agent.decode import DecodedAction, RawAction, actions_extra, decode_actions
from agent.decode.context import Context
from agent.decode.decode import MAX_ACTIONS
from agent.decode.selectors import known_functions
from agent.decode.values import MAX_CALLDATA
from tests.decode.calldata import ALICE, KNOWN, STRANGER, TIMELOCK, USDC, call, oz

SCHEDULE_BATCH = "scheduleBatch(address[],uint256[],bytes[],bytes32,bytes32,uint256)"


def decode(*actions: RawAction) -> list[DecodedAction]:
    decoded = decode_actions(list(actions), KNOWN)
    json.dumps(actions_extra(decoded))  # always storable
    return decoded


def flagged(action: DecodedAction, kind: str = "undecodable") -> bool:
    return any(f.kind == kind and f.severity == "high" for f in action.flags)


@pytest.mark.parametrize(
    "calldata",
    ["0x", "0xa9", "0xa9059c", "0xzz", "0x123", "a9059cbb", "0x" + "ff" * 4, "garbage"],
)
def test_short_or_non_hex_calldata(calldata: str) -> None:
    (action,) = decode(RawAction(target=USDC, value=0, calldata=calldata))
    assert action.summary


def test_truncated_arguments_are_undecodable_with_raw_hex() -> None:
    full = call("transfer(address,uint256)", ALICE, 10**6)
    (action,) = decode(RawAction(target=USDC, value=0, calldata="0x" + full[:40].hex()))
    assert flagged(action) and action.function == "transfer(address,uint256)"
    assert action.raw is not None and action.raw.startswith("0xa9059cbb")


@pytest.mark.timeout(60)  # a blow-up, not a speed check: speed is measured in bench/
def test_huge_calldata_is_named_but_not_decoded() -> None:
    assert MAX_CALLDATA >= 1024 * 1024  # real Safe batches run to hundreds of KiB
    data = call("transfer(address,uint256)", ALICE, 1) + b"\0" * (MAX_CALLDATA + 1)
    (action,) = decode(RawAction(target=USDC, value=0, calldata="0x" + data.hex()))
    assert flagged(action) and "over the cap" in action.summary
    assert "transfer(address,uint256)" in action.summary and len(action.raw or "") < 20


@pytest.mark.timeout(60)
def test_array_fan_out_bomb_is_refused_quickly() -> None:
    """Many offsets pointing at one big inner array would decode to millions of items."""
    n = 1000
    head = (32).to_bytes(32, "big") + n.to_bytes(32, "big")
    pointers = b"".join((32 * n).to_bytes(32, "big") for _ in range(n))
    inner = n.to_bytes(32, "big") + bytes(32 * n)
    payload = bytes.fromhex("12345678") + head + pointers + inner
    (action,) = decode(
        RawAction(
            target=STRANGER,
            value=0,
            signature="bomb(uint256[][])",
            calldata="0x" + payload[4:].hex(),
        )
    )
    assert flagged(action)


def test_more_actions_than_the_cap_are_capped_and_flagged() -> None:
    action = oz(USDC, "transfer(address,uint256)", ALICE, 1)
    decoded = decode(*[action] * (MAX_ACTIONS + 50))
    assert len(decoded) == MAX_ACTIONS + 1 and flagged(decoded[-1])
    assert "50 more call(s) not decoded" in decoded[-1].summary


@pytest.mark.timeout(120)
def test_a_hostile_batch_cannot_exceed_the_total_budget() -> None:
    budget = Context({}).budget
    inner = call("transfer(address,uint256)", ALICE, 1)
    n = budget // 10
    batch = call(SCHEDULE_BATCH, [USDC] * n, [0] * n, [inner] * n, bytes(32), bytes(32), 0)
    decoded = decode(*[RawAction(target=TIMELOCK, value=0, calldata=batch)] * 11)
    nested = [a for top in decoded for a in top.walk()]
    assert len(nested) <= budget + 20
    assert any("too many calls in all" in a.summary for a in nested)


@pytest.mark.parametrize(
    ("target", "value"),
    [("not an address", 0), ("0x1234", 0), (USDC, -1), (USDC, 2**256), ("0x" + "zz" * 20, 5)],
)
def test_bad_targets_and_values(target: str, value: int) -> None:
    (action,) = decode(RawAction(target=target, value=value, calldata="0x"))
    assert flagged(action)


@pytest.mark.parametrize(
    "signature",
    [
        "transfer(address, uint256)",  # not canonical: a different selector
        "nonsense",
        "f(uint7)",
        "f(" + "uint256," * 300 + "uint256)",
        "f(foo)",
        "\u202etransfer(address,uint256)",
        "g((address,bytes)[],string)",
    ],
)
def test_odd_bravo_signatures(signature: str) -> None:
    (action,) = decode(
        RawAction(target=USDC, value=0, signature=signature, calldata="0x" + "00" * 64)
    )
    assert action.flags and "\u202e" not in action.summary
    assert all("\u202e" not in f.detail for f in action.flags)


def test_non_canonical_signature_is_an_unknown_function() -> None:
    data = encode(["address", "uint256"], [ALICE, 1])
    (action,) = decode(
        RawAction(target=USDC, value=0, signature="transfer(address, uint256)", calldata=data)
    )
    assert flagged(action, "unknown_function") and "not canonical" in action.flags[0].detail
    assert action.args[0].value == ALICE  # shown anyway, by the signature's own types


def test_unknown_bravo_signature_decodes_by_its_own_types() -> None:
    data = encode(["address", "string"], [ALICE, "hello"])
    (action,) = decode(
        RawAction(target=USDC, value=0, signature="doThing(address,string)", calldata=data)
    )
    assert action.function_source == "signature" and action.effect is None
    # named by its own signature: not "unknown" at high severity, but said to be unlisted
    assert [(f.kind, f.severity) for f in action.flags] == [("unknown_function", "info")]
    assert action.args[1].value == "hello"


def test_signature_with_selector_repeated_in_calldata_is_noted() -> None:
    data = call("transfer(address,uint256)", ALICE, 1)
    (action,) = decode(
        RawAction(target=USDC, value=0, signature="transfer(address,uint256)", calldata=data)
    )
    assert any("repeats the selector" in f.detail for f in action.flags)


def test_fuzzed_calldata_never_raises() -> None:
    rng = random.Random(20261125)
    selectors = list(known_functions())
    samples = [
        call("transfer(address,uint256)", ALICE, 5),
        call(
            SCHEDULE_BATCH,
            [USDC],
            [0],
            [call("transfer(address,uint256)", ALICE, 1)],
            bytes(32),
            bytes(32),
            9,
        ),
        call("setText(bytes32,string,string)", bytes(32), "k", "v" * 100),
        call("multicall(bytes[])", [call("setAddr(bytes32,address)", bytes(32), ALICE)] * 3),
    ]
    actions = []
    for _ in range(400):
        choice = rng.random()
        if choice < 0.4:
            body = rng.choice(selectors) + rng.randbytes(rng.choice([0, 31, 32, 64, 96, 200]))
        elif choice < 0.8:
            sample = bytearray(rng.choice(samples))
            for _ in range(rng.randint(1, 8)):
                sample[rng.randrange(len(sample))] = rng.randrange(256)
            body = bytes(sample[: rng.randint(0, len(sample))])
        else:
            body = rng.randbytes(rng.randint(0, 300))
        actions.append(
            RawAction(target=rng.choice([USDC, TIMELOCK, STRANGER]), value=0, calldata=body)
        )
    for start in range(0, len(actions), 100):
        decoded = decode(*actions[start : start + 100])
        assert len(decoded) == 100


def test_invalid_utf8_strings_decode_with_replacement() -> None:
    data = encode(["bytes32", "bytes", "bytes"], [bytes(32), b"\xff\xfekey", b"\xc3"])
    (action,) = decode(RawAction(target=STRANGER, value=0, calldata="0x10f13a8c" + data.hex()))
    assert action.function == "setText(bytes32,string,string)"
    assert "\ufffd" in action.args[1].value
