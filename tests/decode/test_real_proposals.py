"""Real proposals (tests/decode/fixtures, copied from the shared data): what they execute
is named, opened and flagged with no configuration at all."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.analysis.facts import extract_facts
from agent.analysis.policy import parse_policy
from agent.analysis.rules import evaluate_hard_rules
from agent.cli.main import app
from agent.decode import DecodedAction, actions_extra, decode_actions
from agent.decode.stored import action_briefs, outflow_totals
from agent.models import Proposal, ProposalExtra
from agent.store import RecordStore
from bench.decode_coverage import Sample, sample_of

FIXTURES = Path(__file__).parent / "fixtures" / "real_proposals.jsonl"
ROWS = {
    (row.get("governor") or row["dao"], str(row.get("proposal_id") or row.get("folder"))): row
    for row in map(json.loads, FIXTURES.read_text().splitlines())
}
POLICY = parse_policy(
    """
id: t
owner: o
principles:
  - {id: care, text: Look at what a proposal executes.}
hard_rules:
  max_outflow: {USDC: 1000000, COMP: 10000}
  upgrades_require_audit: true
""",
    Path("t.yaml"),
)


def _row(governor: str, key: str) -> dict:
    return ROWS[(governor, key)]


def _sample(governor: str, key: str) -> Sample:
    sample = sample_of(_row(governor, key))
    assert sample is not None
    return sample


def _decoded(governor: str, key: str) -> list[DecodedAction]:
    return decode_actions(_sample(governor, key).actions)


def _nodes(actions: list[DecodedAction]) -> list[DecodedAction]:
    return [node for action in actions for node in action.walk()]


def _proposal(governor: str, key: str) -> Proposal:
    row = _row(governor, key)
    body = row["description"] or ""
    return Proposal(
        source="chain",
        space=governor.lower(),
        id=f"1:0xgov:{key}",
        title=body.splitlines()[0].lstrip("# ") if body else key,
        body=body,
        state="active",
        choices=["For", "Against", "Abstain"],
        extra=json.loads(json.dumps(actions_extra(_decoded(governor, key)))),
    )


def _rule(proposal: Proposal, name: str) -> str:
    facts = extract_facts(f"{proposal.title}\n{proposal.body}")
    results = evaluate_hard_rules(POLICY, proposal, facts)
    return next(r.outcome for r in results if r.rule == name)


def test_every_action_of_the_fixtures_is_named_but_one_unknown_selector() -> None:
    nodes = [n for key in ROWS for n in _nodes(_decoded(*key))]
    unnamed = [n.selector for n in nodes if n.function is None]
    assert len(nodes) >= 150 and unnamed == ["0x94d37b5a"]  # ENS EP 5.29's vesting call


def test_usdc_leaving_the_ens_endowment_safe_is_a_flagged_usdc_transfer() -> None:
    (safe_tx,) = _decoded("ens", "ep-6-32")
    assert safe_tx.function is not None and safe_tx.function.startswith("execTransaction(")
    (transfer,) = safe_tx.inner
    assert transfer.function == "transfer(address,uint256)" and not transfer.delegatecall
    assert transfer.target_name == "USDC" and transfer.summary.startswith(
        "Transfer 2,500,000 USDC from 0x4F20…FE64"
    )
    (moved,) = [f for f in transfer.flags if f.kind == "treasury_outflow"]
    assert (moved.severity, moved.token, moved.amount) == ("warn", "USDC", "2500000")
    assert outflow_totals([safe_tx]) == {"USDC": Decimal(2_500_000)}


def test_steward_show_prints_the_usdc_transfer_inside_the_safe(steward_home: Path) -> None:
    store = RecordStore(f"sqlite:///{steward_home / 'steward.db'}")
    store.apply_proposals([_proposal("ens", "ep-6-32")])
    store.close()
    result = CliRunner().invoke(app, ["show", "chain:1:0xgov:ep-6-32"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "Transfer 2,500,000 USDC from 0x4F20…FE64" in out
    assert "treasury_outflow (warn)" in out and "execTransaction(" in out


def test_a_safe_payload_over_64_kib_is_opened_to_its_multisend_batch() -> None:
    (safe_tx,) = _decoded("ens", "ep-6-8")
    (batch,) = safe_tx.inner
    assert batch.function == "multiSend(bytes)" and batch.delegatecall
    assert len(batch.inner) == 116 and all(n.function for n in batch.inner)
    assert {n.effect for n in batch.inner} == {"role_change", "none"}  # and a Poster note
    # the Safe runs MultiSend by delegatecall: shown, but every call it makes is opened
    assert [(f.kind, f.severity) for f in batch.flags if f.kind == "delegatecall"] == [
        ("delegatecall", "info")
    ]


def test_compound_set_implementation_fails_the_audit_rule_without_an_audit_link() -> None:
    decoded = _decoded("GovernorAlpha", "34")
    assert decoded[0].function == "_setImplementation(address,bool,bytes)"
    assert decoded[0].effect == "upgrade"
    assert [f.severity for f in decoded[0].flags if f.kind == "upgrade"] == ["high"]
    assert _rule(_proposal("GovernorAlpha", "34"), "upgrades_require_audit") == "fail"
    # the same upgrade with its audit linked passes
    assert _rule(_proposal("GovernorBravo", "80"), "upgrades_require_audit") == "pass"


def test_comet_deploy_and_upgrade_is_an_upgrade() -> None:
    upgrades = [n for n in _nodes(_decoded("GovernorBravo", "116")) if n.effect == "upgrade"]
    assert [n.function for n in upgrades] == ["deployAndUpgradeTo(address,address)"]
    assert any(f.kind == "upgrade" and f.severity == "high" for f in upgrades[0].flags)


def test_reserves_and_comp_grants_are_outflows_in_human_units() -> None:
    decoded = _decoded("GovernorAlpha", "42")
    (reserves,) = [n for n in decoded if n.function == "_reduceReserves(uint256)"]
    # cUSDC's reserves go to its admin, the DAO's timelock: shown in USDC, at info...
    assert reserves.summary.startswith("Take 27,000 USDC of Compound cUSDC's reserves out")
    assert [(f.kind, f.severity, f.amount) for f in reserves.flags] == [
        ("treasury_outflow", "info", "27000")
    ]
    # ...and the transfer the timelock then makes is what counts, once
    assert outflow_totals(decoded) == {"USDC": Decimal(27_000), "COMP": Decimal(240)}


def test_a_stream_counts_its_full_deposit_against_max_outflow() -> None:
    decoded = _decoded("GovernorBravo", "82")
    (stream,) = [f for n in decoded for f in n.flags if f.kind == "stream"]
    assert stream.token == "COMP" and stream.amount == "21213.001006232907484467"
    # the approval to the stream contract is what the stream then uses: counted once
    assert outflow_totals(decoded)["COMP"] == Decimal(stream.amount)
    assert _rule(_proposal("GovernorBravo", "82"), "max_outflow") == "fail"


def test_aave_payloads_run_by_delegatecall_are_marked_and_flagged_high() -> None:
    (action,) = _decoded("AaveGovernanceV2", "5")
    assert action.delegatecall
    assert [(f.kind, f.severity) for f in action.flags if f.kind == "delegatecall"] == [
        ("delegatecall", "high")
    ]
    # named (the table holds the signatures real proposals use): not "unknown" at all
    assert action.function_source == "table"
    assert not any(f.kind == "unknown_function" for f in action.flags)
    assert action_briefs(ProposalExtra(**actions_extra([action])))[0].startswith(
        "(delegatecall) Call execute("
    )


def test_the_arc_timelock_queue_is_opened() -> None:
    (queue,) = _decoded("AaveGovernanceV2", "48")
    assert queue.target_name == "Aave governance v2 ARC_TIMELOCK"
    (inner,) = queue.inner
    assert inner.function == "execute()" and inner.delegatecall


def test_a_message_to_polygon_is_opened_with_its_chain() -> None:
    (message,) = _decoded("AaveGovernanceV2", "56")
    assert message.effect == "cross_chain" and message.chain is None
    assert any(f.kind == "cross_chain" for f in message.flags)
    (l2_call,) = message.inner
    assert l2_call.chain == "Polygon" and l2_call.delegatecall
    assert action_briefs(ProposalExtra(**actions_extra([message])))[1].startswith(
        "  (on Polygon, delegatecall)"
    )


@pytest.mark.parametrize("configured", [True, False])
def test_user_contracts_win_over_the_address_book(configured: bool) -> None:
    from agent.decode import KnownContract

    usdc = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
    mine = [
        KnownContract(address=usdc, name="Our dollars", kind="token", symbol="USDC", decimals=6)
    ]
    (safe_tx,) = decode_actions(_sample("ens", "ep-6-32").actions, mine if configured else [])
    assert safe_tx.inner[0].target_name == ("Our dollars" if configured else "USDC")


def test_vote_provenance_names_what_to_look_at_first() -> None:
    from agent.voting.decide import action_flags

    proposal = _proposal("AaveGovernanceV2", "56")
    # high first, then warnings; "named by its own signature" (info) is left out
    assert action_flags(proposal) == ["delegatecall", "cross_chain", "unknown_target"]


def test_outflows_that_cannot_be_counted_are_said_in_the_rule() -> None:
    # EP 5.29: USDC allowances are counted; a Superfluid stream (a rate with no end) and
    # an unknown vesting call's tokens cannot be, and the rule says so instead of a bare pass
    generous = POLICY.model_copy(
        update={"hard_rules": POLICY.hard_rules.model_copy(update={"max_outflow": {"USDC": 5e6}})}
    )
    proposal = _proposal("ens", "ep-5-29")
    facts = extract_facts(f"{proposal.title}\n{proposal.body}")
    (rule,) = [r for r in evaluate_hard_rules(generous, proposal, facts) if r.rule == "max_outflow"]
    assert rule.outcome == "pass" and "could not be counted" in rule.detail
    assert _rule(proposal, "max_outflow") == "fail"  # 1.2M USDC of allowances over 1M
