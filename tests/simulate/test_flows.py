"""The report → hard-rule facts, mismatches, summaries and revert reasons (no chain needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from agent.decode.models import ActionFlag, DecodedAction
from agent.records.simulation import EthChange, SimulationReport, TokenMove
from agent.simulate.flows import current_flows, flows, mismatches, summary
from agent.simulate.reverts import describe_revert

DAO = "0x" + "aa" * 20
SAFE = "0x" + "bb" * 20
OUT = "0x" + "cc" * 20
USDC = "0x" + "dd" * 20


def _move(source: str, dest: str, amount: str, kind: str = "transfer") -> TokenMove:
    raw = str(int(Decimal(amount) * 10**6))
    return TokenMove(
        kind=kind,
        token=USDC,
        symbol="USDC",
        decimals=6,
        source=source,  # type: ignore[arg-type]
        destination=dest,
        amount_raw=raw,
        amount=amount,
    )


def _report(**kw: object) -> SimulationReport:
    return SimulationReport(
        uid="u",
        content_hash="h",
        status="simulated",
        method="governor",
        executor=DAO,
        created=datetime.now(UTC),
        dao=[DAO.lower(), SAFE.lower()],
        **kw,
    )  # type: ignore[arg-type]


def test_only_money_leaving_the_dao_counts() -> None:
    report = _report(
        token_moves=[_move(DAO, SAFE, "500"), _move(SAFE, OUT, "120.5"), _move(OUT, DAO, "9")],
        eth_changes=[
            EthChange(
                address=DAO,
                before_wei="0",
                after_wei="0",
                delta_wei=str(-2 * 10**18),
                delta_eth="-2",
            ),
            EthChange(
                address=OUT, before_wei="0", after_wei="0", delta_wei=str(2 * 10**18), delta_eth="2"
            ),
        ],
    )
    found = flows(report, set(report.dao))
    assert found.outflows == {"USDC": Decimal("120.5"), "ETH": Decimal(2)}
    assert found.recipients == {OUT.lower()}


def test_an_outflow_the_calldata_does_not_show_is_a_high_mismatch() -> None:
    report = _report(token_moves=[_move(SAFE, OUT, "100000")])
    shown = DecodedAction(
        index=0,
        target=SAFE,
        summary="call",
        flags=[
            ActionFlag(
                kind="treasury_outflow", severity="high", detail="x", token="USDC", amount="100"
            )
        ],
    )
    [flag] = mismatches(flows(report, set(report.dao)), [shown])
    assert flag.severity == "high" and "100,000 USDC" in flag.detail and "shows 100" in flag.detail
    assert (
        mismatches(flows(_report(token_moves=[_move(DAO, OUT, "100")]), {DAO.lower()}), [shown])
        == []
    )


def test_unlimited_approvals_count_as_infinite() -> None:
    approval = TokenMove(
        kind="approval",
        token=USDC,
        symbol="USDC",
        decimals=6,
        source=DAO,
        destination=OUT,
        amount_raw=str(2**256 - 1),
        amount="1",
    )
    assert flows(_report(token_moves=[approval]), {DAO.lower()}).outflows["USDC"].is_infinite()


def test_reports_of_another_version_are_not_used() -> None:
    report = _report(token_moves=[_move(DAO, OUT, "1")])
    assert current_flows(report, "other") is None
    assert current_flows(report, "h") is not None


def test_summary_and_hash_ignore_when_and_how_long() -> None:
    a = _report(token_moves=[_move(DAO, OUT, "2500000")])
    b = a.model_copy(
        update={"created": datetime(2020, 1, 1, tzinfo=UTC), "timings": {"fork_s": 1.0}}
    )
    assert a.report_hash() == b.report_hash()
    assert summary(a) == f"simulated (governor): 2,500,000 USDC from {DAO} to {OUT}"


def test_revert_reasons_are_readable() -> None:
    error = function_signature_to_4byte_selector("Error(string)") + encode(["string"], ["no"])
    assert describe_revert(error) == "no"
    assert describe_revert(bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])) == "Panic(0x11)"
    owner = function_signature_to_4byte_selector("NotOwner(address)") + encode(["address"], [OUT])
    assert describe_revert(owner) == "NotOwner(0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC)"
    assert describe_revert(b"") == "reverted without a reason"
    assert describe_revert(b"\x01\x02\x03\x04garbage").startswith("0x01020304")


def test_a_revert_and_a_hidden_outflow_escalate_only_for_their_version() -> None:
    from agent.records.simulation import ActionOutcome, SimFlag
    from agent.simulate.flows import escalations

    report = _report(
        actions=[ActionOutcome(index=0, target=OUT, value_wei="0", status="reverted", reason="no")],
        flags=[
            SimFlag(kind="revert", severity="high", detail="action 1 reverts: no"),
            SimFlag(kind="no_code_target", severity="warn", detail="calls an EOA"),
        ],
    )
    assert escalations(report, "h") == ["simulation: action 1 reverts: no"]
    assert escalations(report, "another version") == []
    assert summary(report).startswith("simulated (governor): REVERTS at action 1 (no)")
