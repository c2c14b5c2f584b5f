"""Hard rules: checked by code on extracted facts, never left to a model.

A failed rule forces its outcome (AGAINST, or ABSTAIN for a conflict of
interest) whatever an analyst thinks, and always asks for a human. Decoded
on-chain actions (`Proposal.extra.actions`) are facts too, and trusted: what
a proposal executes counts whatever its text says.
"""

from __future__ import annotations

import re
from decimal import Decimal

from agent.analysis.policy import Policy
from agent.decode.models import DecodedAction
from agent.decode.stored import (
    UNLIMITED,
    outflow_recipients,
    outflow_totals,
    stored_actions,
    uncounted_outflows,
    upgrades,
)
from agent.models import Proposal
from agent.records.assessment import Facts, HardRuleResult
from agent.simulate.flows import SimulatedFlows

_UPGRADE = re.compile(
    r"\b(upgrad(?:e|es|ed|ing)\s+(?:the|its|our|this)\s+(?:\w+\s+){0,3}(?:contracts?|prox(?:y|ies)|"
    r"implementation|resolver|registrar|controller)|upgradeTo(?:AndCall)?|"
    r"(?:set|point|deploy)\w*\s+(?:a|the)\s+new implementation|proxy upgrade)\b",
    re.I,
)
_WINDOW = 160  # characters around an amount in which an outflow verb makes it an outflow
_NOT_OUTFLOW = re.compile(r"\b(delegat(?:e|ed|ion)|previously|last year|in 20[12]\d)\b", re.I)
_OUTFLOW = re.compile(
    r"\b(transfer|send|pay|fund(?:ing)?|grant|allocate|budget|stream|disburse|request(?:ing)?)\b",
    re.I,
)


def evaluate_hard_rules(
    policy: Policy, proposal: Proposal, facts: Facts, simulated: SimulatedFlows | None = None
) -> list[HardRuleResult]:
    """`simulated`: the flows of a fork simulation of this proposal version, when one exists;
    the rules then count the larger of what the calldata shows and what the fork moved."""
    rules = policy.hard_rules
    text = f"{proposal.title}\n{proposal.body}"
    actions = stored_actions(proposal.extra)
    max_outflow = _said_simulated(_max_outflow(policy, facts, text, actions, simulated), simulated)
    results = [_with_uncounted(max_outflow, actions)] if rules.max_outflow else []
    if rules.upgrades_require_audit:
        results.append(_audit(policy, facts, text, actions, simulated))
    if rules.abstain_on_own_grants and (rules.own_addresses or rules.own_names):
        results.append(_own_grant(policy, facts, text, actions, simulated))
    return results


def _said_simulated(result: HardRuleResult, simulated: SimulatedFlows | None) -> HardRuleResult:
    """A rule that passed says it read the simulation too, when there was one."""
    if simulated is None or "simulat" in result.detail or result.outcome == "fail":
        return result
    return result.model_copy(
        update={
            "detail": f"{result.detail}; checked against the simulation too ({_source(simulated)})"
        }
    )


def _source(simulated: SimulatedFlows | None) -> str:
    return f"simulated on a fork, report {simulated.report_hash[:12]}" if simulated else ""


def _on_chain_totals(
    actions: list[DecodedAction], simulated: SimulatedFlows | None
) -> tuple[dict[str, Decimal], set[str]]:
    """Per token, the larger of the decoded and the simulated outflow; and the tokens whose
    figure came from the simulation."""
    totals = outflow_totals(actions)
    from_sim: set[str] = set()
    for symbol, amount in (simulated.outflows if simulated else {}).items():
        if amount > totals.get(symbol, Decimal(0)):
            totals[symbol] = amount
            from_sim.add(symbol)
    return totals, from_sim


def _decoded_over(
    limits: dict[str, float], totals: dict[str, Decimal], from_sim: set[str], label: str
) -> HardRuleResult | None:
    """The decoded outflow furthest over its limit (totals per token), if any."""
    ratio = {s: t / max(Decimal(str(limits[s])), Decimal("1e-9")) for s, t in totals.items()}
    over = [s for s, t in totals.items() if t > Decimal(str(limits[s]))]
    if not over:
        return None
    worst = max(over, key=lambda s: ratio[s])
    total = "an unlimited amount" if totals[worst] == UNLIMITED else f"{totals[worst]:,f}"
    return HardRuleResult(
        rule="max_outflow",
        outcome="fail",
        on_fail="AGAINST",
        detail=f"its on-chain actions move {total} {worst} "
        f"({label if worst in from_sim else 'decoded calls'}), above the "
        f"policy's limit of {limits[worst]:,.0f} {worst}",
    )


def _max_outflow(
    policy: Policy,
    facts: Facts,
    text: str,
    actions: list[DecodedAction],
    simulated: SimulatedFlows | None = None,
) -> HardRuleResult:
    limits = policy.hard_rules.max_outflow
    totals, from_sim = _on_chain_totals(actions, simulated)
    decoded = {s: t for s, t in totals.items() if s in limits}
    decoded_fail = _decoded_over(limits, decoded, from_sim, _source(simulated))
    if decoded_fail is not None:
        return decoded_fail
    asks = _OUTFLOW.search(text) is not None
    if not asks and not decoded:
        return HardRuleResult(
            rule="max_outflow",
            outcome="not_applicable",
            detail="the proposal asks for no transfer or funding",
        )
    asked = [a for a in facts.amounts if _is_outflow(a.text, text)] if asks else []
    over = [a for a in asked if a.unit.upper() in limits and a.value > limits[a.unit.upper()]]
    if over:
        worst = max(over, key=lambda a: a.value / max(limits[a.unit.upper()], 1e-9))
        limit = limits[worst.unit.upper()]
        return HardRuleResult(
            rule="max_outflow",
            outcome="fail",
            on_fail="AGAINST",
            detail=f"asks for {worst.text!r} ({worst.value:,.0f} {worst.unit}), above the "
            f"policy's limit of {limit:,.0f} {worst.unit}",
        )
    checked = [a for a in asked if a.unit.upper() in limits]
    if not checked and not decoded:
        return HardRuleResult(
            rule="max_outflow",
            outcome="not_applicable",
            detail="no amount in a token the policy limits",
        )
    moved_by = _source(simulated) or "decoded actions"
    on_chain = f" (and {len(decoded)} token(s) moved, per {moved_by})" if decoded else ""
    return HardRuleResult(
        rule="max_outflow",
        outcome="pass",
        detail=f"{len(checked)} amount(s){on_chain} within the policy's limits",
    )


def _with_uncounted(result: HardRuleResult, actions: list[DecodedAction]) -> HardRuleResult:
    """Decoded outflows no limit can be checked against (a token of unknown decimals, a
    stream without an end) are said, so a person checks them: a pass is not a proof."""
    uncounted = uncounted_outflows(actions)
    if result.outcome == "fail" or not uncounted:
        return result
    note = (
        f"{uncounted} decoded outflow(s) could not be counted (token or amount unknown): "
        "check them by hand"
    )
    detail = note if result.outcome == "not_applicable" else f"{result.detail}; {note}"
    return result.model_copy(update={"outcome": "pass", "detail": detail})


def _is_outflow(amount_text: str, text: str) -> bool:
    """An amount counts when a transfer/funding verb stands near it, not anywhere in the text;
    history, earlier tranches and delegated voting power in its own sentence are not asked."""
    start = text.find(amount_text)
    while start != -1:
        end = start + len(amount_text)
        window = text[max(0, start - _WINDOW) : end + _WINDOW]
        sentence = text[_sentence_start(text, start) : _sentence_end(text, end)]
        if _OUTFLOW.search(window) and not _NOT_OUTFLOW.search(sentence):
            return True
        start = text.find(amount_text, start + 1)
    return False


def _sentence_start(text: str, pos: int) -> int:
    return max(text.rfind(". ", 0, pos) + 1, text.rfind("\n", 0, pos) + 1, 0)


def _sentence_end(text: str, pos: int) -> int:
    ends = [i for i in (text.find(". ", pos), text.find("\n", pos)) if i != -1]
    return min(ends) if ends else len(text)


def _audit(
    policy: Policy,
    facts: Facts,
    text: str,
    actions: list[DecodedAction],
    simulated: SimulatedFlows | None = None,
) -> HardRuleResult:
    decoded = upgrades(actions)
    sim_upgrades = simulated.upgrades if simulated else []
    if not _UPGRADE.search(text) and not decoded and not sim_upgrades:
        return HardRuleResult(
            rule="upgrades_require_audit",
            outcome="not_applicable",
            detail="no contract upgrade found",
        )
    patterns = [p.lower() for p in policy.hard_rules.audit_link_patterns]
    audits = [link for link in facts.links if any(p in link.lower() for p in patterns)]
    if audits:
        return HardRuleResult(
            rule="upgrades_require_audit",
            outcome="pass",
            detail=f"upgrade with audit link {audits[0]}",
        )
    return HardRuleResult(
        rule="upgrades_require_audit",
        outcome="fail",
        on_fail="AGAINST",
        detail=f"the proposal's actions upgrade a contract ({decoded[0].detail}) but link no audit"
        if decoded
        else f"the simulation shows an upgrade ({sim_upgrades[0]}; {_source(simulated)}) but "
        "the proposal links no audit"
        if sim_upgrades
        else "the proposal upgrades a contract but links no audit",
    )


def _own_grant(
    policy: Policy,
    facts: Facts,
    text: str,
    actions: list[DecodedAction],
    simulated: SimulatedFlows | None = None,
) -> HardRuleResult:
    rules = policy.hard_rules
    own_addresses = {a.lower() for a in rules.own_addresses}
    paid = own_addresses & outflow_recipients(actions)
    sim_paid = own_addresses & (simulated.recipients if simulated else set())
    if paid or sim_paid:
        how = "actions" if paid else f"simulation ({_source(simulated)})"
        return HardRuleResult(
            rule="abstain_on_own_grants",
            outcome="fail",
            on_fail="ABSTAIN",
            detail=f"the proposal's {how} pay the delegate's own {sorted(paid | sim_paid)[0]}: "
            "conflict of interest",
        )
    own = {a.lower() for a in rules.own_addresses} | {n.lower() for n in rules.own_names}
    mentioned = own & ({a.lower() for a in facts.addresses} | {n.lower() for n in facts.ens_names})
    if mentioned and _OUTFLOW.search(text):
        return HardRuleResult(
            rule="abstain_on_own_grants",
            outcome="fail",
            on_fail="ABSTAIN",
            detail=f"funds may go to the delegate's own {sorted(mentioned)[0]}: conflict of "
            "interest",
        )
    return HardRuleResult(
        rule="abstain_on_own_grants", outcome="pass", detail="the delegate is not a recipient"
    )
