"""Decoded actions as hard-rule facts: what a proposal executes counts, whatever it says."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.analysis.decide import finalise
from agent.analysis.policy import parse_policy
from agent.analysis.rules import evaluate_hard_rules
from agent.decode import RawAction, actions_extra, decode_actions
from agent.models import Proposal
from agent.records.assessment import Amount, Draft, Facts, HardRuleResult
from tests.decode.calldata import ALICE, BOB, ENS, KNOWN, STRANGER, TREASURY, USDC, call, oz

POLICY = parse_policy(
    f"""
id: t
owner: o
principles:
  - {{id: runway, text: Preserve the treasury runway above all.}}
hard_rules:
  max_outflow: {{USDC: 100000, ETH: 10}}
  upgrades_require_audit: true
  own_addresses: ["{BOB}"]
""",
    Path("t.yaml"),
)


def _proposal(actions: list[RawAction], body: str = "Routine maintenance.", **extra) -> Proposal:
    decoded = decode_actions(actions, KNOWN)
    return Proposal(
        source="chain",
        space="gov",
        id="1:0xgov:7",
        title="Housekeeping",
        body=body,
        state="active",
        choices=["For", "Against", "Abstain"],
        extra={"chain_id": 1, **actions_extra(decoded), **extra},
    )


def _rule(proposal: Proposal, name: str, facts: Facts | None = None) -> HardRuleResult:
    results = evaluate_hard_rules(POLICY, proposal, facts or Facts())
    return next(r for r in results if r.rule == name)


def _usdc(amount: float, to: str = ALICE) -> RawAction:
    return oz(USDC, "transfer(address,uint256)", to, int(amount * 10**6))


def test_a_decoded_outflow_over_the_limit_fails_though_the_text_is_silent() -> None:
    rule = _rule(_proposal([_usdc(250_000)]), "max_outflow")
    assert rule.outcome == "fail" and rule.on_fail == "AGAINST"
    assert "250,000 USDC" in rule.detail and "100,000 USDC" in rule.detail


def test_split_transfers_are_summed_per_token() -> None:
    rule = _rule(_proposal([_usdc(60_000), _usdc(50_000, BOB.lower())]), "max_outflow")
    assert rule.outcome == "fail" and "110,000 USDC" in rule.detail


def test_within_limits_passes_and_says_so() -> None:
    rule = _rule(_proposal([_usdc(60_000)]), "max_outflow")
    assert rule.outcome == "pass" and "decoded actions" in rule.detail


def test_unlimited_approval_of_a_limited_token_fails() -> None:
    action = oz(USDC, "approve(address,uint256)", STRANGER, 2**256 - 1)
    rule = _rule(_proposal([action]), "max_outflow")
    assert rule.outcome == "fail" and "unlimited amount" in rule.detail


def test_eth_value_and_treasury_eth_count_against_the_eth_limit() -> None:
    send = RawAction(target=ALICE, value=6 * 10**18, calldata="0x")
    release = oz(TREASURY, "releaseETH(address,uint256)", ALICE, 5 * 10**18)
    rule = _rule(_proposal([send, release]), "max_outflow")
    assert rule.outcome == "fail" and "11 ETH" in rule.detail


def test_moves_between_the_daos_own_contracts_do_not_count() -> None:
    rule = _rule(_proposal([_usdc(5_000_000, TREASURY)]), "max_outflow")
    assert rule.outcome == "not_applicable"


def test_tokens_the_policy_does_not_limit_are_not_applicable() -> None:
    action = oz(ENS, "transfer(address,uint256)", ALICE, 10**24)
    assert _rule(_proposal([action]), "max_outflow").outcome == "not_applicable"


def test_text_over_the_limit_still_fails_when_decoded_actions_are_within() -> None:
    body = "We request a grant of 500,000 USDC for the docs team."
    facts = Facts(amounts=[Amount(value=500_000, unit="USDC", text="500,000 USDC")])
    rule = _rule(_proposal([_usdc(10)], body=body), "max_outflow", facts)
    assert rule.outcome == "fail" and "500,000 USDC" in rule.detail


def test_nested_outflows_count() -> None:
    inner = call("transfer(address,uint256)", ALICE, 200_000 * 10**6)
    schedule = "schedule(address,uint256,bytes,bytes32,bytes32,uint256)"
    action = oz(STRANGER, schedule, USDC, 0, inner, bytes(32), bytes(32), 0)
    assert _rule(_proposal([action]), "max_outflow").outcome == "fail"


def test_a_decoded_upgrade_needs_an_audit_link() -> None:
    upgrade = oz(STRANGER, "upgradeTo(address)", ALICE)
    rule = _rule(_proposal([upgrade]), "upgrades_require_audit")
    assert rule.outcome == "fail" and "actions upgrade a contract" in rule.detail
    audited = Facts(links=["https://example.org/audit-report.pdf"])
    body = "Audit: https://example.org/audit-report.pdf"
    assert (
        _rule(_proposal([upgrade], body=body), "upgrades_require_audit", audited).outcome == "pass"
    )
    assert _rule(_proposal([_usdc(1)]), "upgrades_require_audit").outcome == "not_applicable"


def test_paying_the_delegate_on_chain_forces_abstain() -> None:
    rule = _rule(_proposal([_usdc(10, BOB)]), "abstain_on_own_grants")
    assert rule.outcome == "fail" and rule.on_fail == "ABSTAIN" and BOB.lower() in rule.detail
    assert _rule(_proposal([_usdc(10)]), "abstain_on_own_grants").outcome == "pass"


def test_actions_of_another_shape_are_ignored() -> None:
    proposal = Proposal(
        source="archive",
        space="s",
        id="x",
        title="t",
        state="closed",
        extra={"actions": ["transfer 1,000,000 USDC", {"odd": True}]},
    )
    assert _rule(proposal, "max_outflow").outcome == "not_applicable"


def test_the_recommendation_is_forced_against() -> None:
    proposal = _proposal([_usdc(250_000)])
    draft = Draft(
        summary="s", category="treasury", findings=[], recommendation="FOR", confidence=0.9
    )
    hard = evaluate_hard_rules(POLICY, proposal, Facts())
    assessment = finalise(
        draft,
        proposal=proposal,
        policy=POLICY,
        facts=Facts(),
        hard_rules=hard,
        injection=[],
        analyst="test",
        prompt_hash="p",
        now=datetime(2026, 11, 25, tzinfo=UTC),
    )
    assert assessment.recommendation == "AGAINST" and assessment.choice == "Against"
    assert any("max_outflow" in r for r in assessment.escalation_reasons)
