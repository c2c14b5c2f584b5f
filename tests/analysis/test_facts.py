"""Fact extraction: amounts with units, addresses, ENS names, periods, links, milestones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.analysis.facts import (
    MAX_MILESTONES,
    extract_addresses,
    extract_amounts,
    extract_durations,
    extract_ens_names,
    extract_facts,
    extract_links,
    extract_milestones,
)
from agent.records.assessment import Amount

ENS_ARCHIVE = Path(__file__).resolve().parents[2] / "config" / "demo" / "ens-proposals.jsonl"


def _ens(title_part: str, body_part: str = "") -> str:
    with ENS_ARCHIVE.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return next(r["body"] for r in rows if title_part in r["title"] and body_part in r["body"])


def _amounts(text: str) -> list[tuple[float, str, str]]:
    return [(a.value, a.unit, a.text) for a in extract_amounts(text)]


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("$1.2M", 1_200_000, "USD"),
        ("1,200,000 USDC", 1_200_000, "USDC"),
        ("50k ENS", 50_000, "ENS"),
        ("100 ETH", 100, "ETH"),
        ("USD 3.6 million", 3_600_000, "USD"),
        ("3.6M USDC", 3_600_000, "USDC"),
        ("€20,000", 20_000, "EUR"),
        ("500K $ENS", 500_000, "ENS"),
        ("1.5 million dollars", 1_500_000, "USD"),
        ("$300k", 300_000, "USD"),
        ("US$200,000", 200_000, "USD"),
        ("$20k USDC", 20_000, "USDC"),
        ("2.5 stETH", 2.5, "STETH"),
        ("$10-20mm pilot", 20_000_000, "USD"),
        ("1,000 $OP", 1_000, "OP"),
    ],
)
def test_amounts_in_human_units(text: str, value: float, unit: str) -> None:
    assert extract_amounts(f"We ask for {text}.") == [
        Amount(value=value, unit=unit, text=text.removesuffix(" pilot"))
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Passed in 2023 and again in 2024 ETH staking season.",
        "EP 5.13 amends EP 1.8; rule 10.1.1 applies.",
        "A 50% ETH and 50% USDC split; quorum 1% of $ENS.",
        "Vote ends 17:46 UTC on 12/05.",
        "| Strategic Grants | 225k | - |\n| Builder Grants | 54.3k | 21.49 |",
        "Roughly 1 million votes; 3 eth maxis; 0x1234 ETH",
    ],
)
def test_numbers_without_a_marker_are_not_amounts(text: str) -> None:
    assert extract_amounts(text) == []


def test_amounts_are_deduplicated_by_value_and_unit() -> None:
    assert _amounts("$5k now, $5,000 later, 5k USDC too") == [
        (5000, "USD", "$5k"),
        (5000, "USDC", "5k USDC"),
    ]


def test_custom_token_symbols() -> None:
    assert extract_amounts("120 FOO and 3 ETH", frozenset({"FOO"})) == [
        Amount(value=120, unit="FOO", text="120 FOO")
    ]


def test_public_goods_funding_request_ep_6_24_3() -> None:
    facts = extract_facts(_ens("[EP 6.24.3]"))
    assert [(a.value, a.unit, a.text) for a in facts.amounts] == [
        (110_000, "USDC", "110k USDC"),
        (15, "ETH", "15 ETH"),
    ]
    assert facts.ens_names == ["coltron.eth"]  # ens.eth inside the Snapshot URL is skipped
    assert facts.links[0] == "https://discuss.ens.domains/t/21550/"
    assert "https://www.enswallets.xyz/" in facts.links


def test_dollar_amounts_in_ens_proposals() -> None:
    reimbursement = extract_facts(_ens("[EP1.4]"))
    assert (1_281_407, "USDC", "$1,281,407 USDC") in [
        (a.value, a.unit, a.text) for a in reimbursement.amounts
    ]
    assert reimbursement.ens_names == ["coldwallet.ens.eth"]
    budget = _amounts(_ens("[EP2.2.2]", "Multisigs / Subgroups: $1.5m"))
    assert (1_500_000, "USD", "$1.5m") in budget and (435_000, "USD", "$435k") in budget
    ecosystem = _amounts(_ens("[EP2.2.2]", "6 ETH, and 6,500"))
    assert (6, "ETH", "6 ETH") in ecosystem and (6_500, "ENS", "6,500 $ENS") in ecosystem
    assert (50_000, "USDC", "$50,000 USDC") in ecosystem
    streams = _amounts(_ens("[EP4.7]"))
    assert streams[:2] == [(3_600_000, "USD", "$3.6M"), (200_000, "USD", "US$200,000")]


def test_protocol_guild_ep_1_9() -> None:
    facts = extract_facts(_ens("[EP1.9]"))
    assert (200_000, "ENS", "200,000 $ENS") in [(a.value, a.unit, a.text) for a in facts.amounts]
    assert facts.addresses[0] == "0xf29ff96aaea6c9a1fba851f74737f3c069d4f1a9"
    assert "theprotocolguild.eth" in facts.ens_names
    assert "for one year" in facts.durations


def test_addresses_are_lowercased_deduplicated_and_not_hashes() -> None:
    addr = "0xF29Ff96aaEa6C9A1fBa851f74737f3c069d4f1a9"
    tx = "0x" + "ab" * 32
    text = f"Send to {addr} ({addr.lower()}); tx {tx}; short 0x1234."
    assert extract_addresses(text) == [addr.lower()]


def test_ens_names() -> None:
    text = (
        "Ask vitalik.eth, Nick.eth and sub.dao.eth. See discuss.ens.domains and "
        "https://app.ens.domains/name/hidden.eth or vitalik.eth.limo; @Coltron.eth's take."
    )
    assert extract_ens_names(text) == ["vitalik.eth", "nick.eth", "sub.dao.eth", "coltron.eth"]


def test_durations_as_written() -> None:
    text = (
        "A 12-month stream, paid quarterly ($5k per month), reviewed after 6 months, "
        "90 days or two years, starting Q1 2025 for one year; renewable 6 Months later. <h1>"
    )
    assert extract_durations(text) == [
        "12-month",
        "quarterly",
        "per month",
        "6 months",
        "90 days",
        "two years",
        "Q1 2025",
        "for one year",
    ]


def test_links_lose_trailing_punctuation_and_markdown_parens() -> None:
    text = (
        "See [forum](https://discuss.ens.domains/t/123). Also https://x.org/a_(b), "
        "and https://x.org/a_(b) again; **https://snapshot.org/#/ens.eth**"
    )
    assert extract_links(text) == [
        "https://discuss.ens.domains/t/123",
        "https://x.org/a_(b)",
        "https://snapshot.org/#/ens.eth",
    ]


def test_milestones_from_list_items_and_headings() -> None:
    text = (
        "## Milestones\n\n- Phase 1: audit (2 weeks)\n* Deliverable: dashboard\n"
        "1. Tranche two on delivery\n- Unrelated item\nPhase 3 in prose is not a list item\n"
        f"- Milestone {'x' * 300}\n" + "".join(f"- phase {i}\n" for i in range(20))
    )
    milestones = extract_milestones(text)
    assert milestones[:4] == [
        "Milestones",
        "Phase 1: audit (2 weeks)",
        "Deliverable: dashboard",
        "Tranche two on delivery",
    ]
    assert len(milestones) == MAX_MILESTONES
    assert len(milestones[4]) == 200 and milestones[4].endswith("…")


@pytest.mark.timeout(60)  # catastrophic backtracking would take hours; ~0.4 s when idle
def test_hostile_two_megabyte_body_is_bounded() -> None:
    line = "$1-2k USDC to a.b.eth for 6 months, 3 ETH; 0xab; https://x.org/(a\n- Phase 1.2.3 a.\n"
    facts = extract_facts((line * 30_000)[:2_000_000])
    assert len(facts.amounts) == 2 and len(facts.milestones) == 1
