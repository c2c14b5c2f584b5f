"""Token and treasury calls: amounts in human units, recipients, outflow flags."""

from __future__ import annotations

import pytest

from agent.decode import DecodedAction, KnownContract, RawAction, TokenInfo, decode_actions
from tests.decode.calldata import (
    ALICE,
    BOB,
    ENS,
    KNOWN,
    REGISTRY,
    STRANGER,
    TIMELOCK,
    TREASURY,
    USDC,
    bravo,
    call,
    oz,
    short,
)

MAX = 2**256 - 1


def one(action: RawAction, **kw) -> DecodedAction:
    (decoded,) = decode_actions([action], kw.pop("known", KNOWN), **kw)
    return decoded


def kinds(action: DecodedAction) -> dict[str, str]:
    return {f.kind: f.severity for f in action.flags}


def test_erc20_transfer_names_amount_recipient_and_flags_the_outflow() -> None:
    action = one(oz(USDC, "transfer(address,uint256)", ALICE, 250_000 * 10**6))
    assert action.summary == f"Transfer 250,000 USDC from Timelock to {short(ALICE)}"
    assert action.function == "transfer(address,uint256)" and action.function_source == "abi"
    assert action.selector == "0xa9059cbb" and action.target_name == "USDC"
    assert [(a.name, a.type, a.value) for a in action.args] == [
        ("to", "address", ALICE),
        ("amount", "uint256", "250000000000"),
    ]
    assert action.args[1].label == "250,000 USDC"
    (flag,) = action.flags
    assert (flag.kind, flag.severity, flag.token, flag.amount) == (
        "treasury_outflow",
        "warn",
        "USDC",
        "250000",
    )
    assert flag.recipient == ALICE and flag.amount_raw == "250000000000"


def test_bravo_style_decodes_like_oz_style() -> None:
    oz_style = one(oz(USDC, "transfer(address,uint256)", ALICE, 5 * 10**6))
    bravo_style = one(bravo(USDC, "transfer(address,uint256)", ALICE, 5 * 10**6))
    assert bravo_style.summary == oz_style.summary
    assert bravo_style.args == oz_style.args and bravo_style.flags == oz_style.flags
    assert bravo_style.selector == oz_style.selector == "0xa9059cbb"


@pytest.mark.parametrize(
    ("token", "raw", "shown", "plain"),
    [
        (USDC, 1_234_567_891, "1,234.567891 USDC", "1234.567891"),
        (USDC, 1, "0.000001 USDC", "0.000001"),
        (ENS, 1_500_000 * 10**18 + 5 * 10**14, "1,500,000.0005 ENS", "1500000.0005"),
        (ENS, 10**60, f"{10**42:,} ENS", str(10**42)),
    ],
)
def test_human_amounts_with_6_and_18_decimals(token: str, raw: int, shown: str, plain: str) -> None:
    action = one(oz(token, "transfer(address,uint256)", ALICE, raw))
    assert shown in action.summary and action.flags[0].amount == plain


def test_unknown_decimals_stay_raw_with_a_note() -> None:
    action = one(oz(STRANGER, "transfer(address,uint256)", ALICE, 12345))
    assert "12345 raw units" in action.summary and "decimals unknown" in action.summary
    outflow = next(f for f in action.flags if f.kind == "treasury_outflow")
    assert outflow.amount is None and outflow.amount_raw == "12345" and outflow.token is None
    assert "unknown_target" in kinds(action)


def test_token_info_from_chain_is_used_once_and_config_wins() -> None:
    asked: list[str] = []

    def token_info(address: str) -> TokenInfo | None:
        asked.append(address)
        return TokenInfo(symbol="USDC", decimals=6) if address == STRANGER else None

    actions = [oz(STRANGER, "transfer(address,uint256)", ALICE, 2 * 10**6)] * 3
    actions.append(oz(ENS, "transfer(address,uint256)", ALICE, 10**18))
    decoded = decode_actions(actions, KNOWN, token_info)
    assert asked == [STRANGER]
    assert "2 USDC" in decoded[0].summary and "1 ENS" in decoded[3].summary
    unknown = next(f for f in decoded[0].flags if f.kind == "unknown_target")
    assert "calls itself USDC on chain" in unknown.detail

    configured = [KnownContract(address=STRANGER, name="Fake", symbol="FAKE", decimals=0)]
    (own,) = decode_actions(actions[:1], configured, token_info)
    assert "2,000,000 FAKE" in own.summary


def test_hostile_token_metadata_is_sanitised() -> None:
    def token_info(address: str) -> TokenInfo | None:
        return TokenInfo(symbol="US\u202eDC\x00", decimals=6)

    action = one(oz(STRANGER, "transfer(address,uint256)", ALICE, 10**6), token_info=token_info)
    assert "1 USDC" in action.summary


def test_unlimited_approval_is_high() -> None:
    action = one(oz(USDC, "approve(address,uint256)", BOB, MAX))
    (flag,) = action.flags
    assert flag.severity == "high" and flag.unlimited and flag.amount is None
    assert "unlimited USDC" in action.summary
    limited = one(oz(USDC, "increaseAllowance(address,uint256)", BOB, 10**6))
    assert kinds(limited) == {"treasury_outflow": "warn"}


def test_transfer_from_without_decimals_reads_as_an_nft() -> None:
    nft = KnownContract(address=STRANGER, name="Punks", kind="token")
    action = one(
        oz(STRANGER, "transferFrom(address,address,uint256)", TIMELOCK, ALICE, 7), known=[nft]
    )
    assert action.summary.startswith("Transfer Punks #7")
    assert action.flags[0].token_id == "7" and action.flags[0].kind == "treasury_outflow"


@pytest.mark.parametrize(
    "signature",
    [
        "safeTransferFrom(address,address,uint256)",
        "safeTransferFrom(address,address,uint256,bytes)",
    ],
)
def test_erc721_safe_transfers(signature: str) -> None:
    values = [TIMELOCK, ALICE, 42] + ([b"hi"] if signature.endswith("bytes)") else [])
    action = one(oz(STRANGER, signature, *values))
    assert "#42" in action.summary and action.args[2].name == "tokenId"
    assert kinds(action)["treasury_outflow"] == "warn"


def test_set_approval_for_all_on_nfts_and_on_the_ens_registry() -> None:
    nft = one(oz(STRANGER, "setApprovalForAll(address,bool)", BOB, True))
    assert kinds(nft)["treasury_outflow"] == "high"
    ens = one(oz(REGISTRY, "setApprovalForAll(address,bool)", BOB, True))
    assert kinds(ens) == {"ownership_change": "high"}
    revoked = one(oz(STRANGER, "setApprovalForAll(address,bool)", BOB, False))
    assert "treasury_outflow" not in kinds(revoked)


def test_treasury_release_and_release_eth() -> None:
    release = one(oz(TREASURY, "release(address,address,uint256)", USDC, ALICE, 5_000 * 10**6))
    assert release.summary.startswith("Release 5,000 USDC from Treasury to")
    assert [a.name for a in release.args] == ["token", "to", "amount"]
    assert release.args[0].label == "USDC"
    eth = one(oz(TREASURY, "releaseETH(address,uint256)", ALICE, 3 * 10**17))
    (flag,) = eth.flags
    assert (flag.token, flag.amount, flag.recipient) == ("ETH", "0.3", ALICE)


def test_moves_into_the_daos_own_contracts_are_info() -> None:
    action = one(oz(USDC, "transfer(address,uint256)", TREASURY, 10**12))
    assert kinds(action) == {"treasury_outflow": "info"}


def test_eth_value_and_plain_eth_transfer() -> None:
    action = one(RawAction(target=ALICE, value=15 * 10**17, calldata="0x"))
    assert action.summary.startswith("Send 1.5 ETH from Timelock to")
    assert action.value_eth == "1.5" and action.value_wei == str(15 * 10**17)
    assert action.function is None and action.selector is None
    eth = next(f for f in action.flags if f.kind == "eth_value")
    assert eth.amount == "1.5" and eth.severity == "warn"
    with_call = one(oz(TREASURY, "releaseETH(address,uint256)", ALICE, 1, value=10**18))
    assert {"eth_value", "treasury_outflow"} <= set(kinds(with_call))


def test_calldata_may_be_bytes() -> None:
    data = call("transfer(address,uint256)", ALICE, 10**6)
    action = one(RawAction(target=USDC.lower(), value=0, calldata=data))
    assert "1 USDC" in action.summary and action.target == USDC
