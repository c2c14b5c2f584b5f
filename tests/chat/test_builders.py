"""Builders and `safe` on hostile, huge input: Discord's limits hold, nothing pings or links."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_abi import encode

from agent.analysis.policy import Policy
from agent.chat import builders
from agent.chat.ask import Answer, Citation
from agent.chat.models import Message
from agent.chat.text import plain, safe, strip_links, truncate
from agent.decode import RawAction, actions_extra, decode_actions
from agent.digest.build import Digest, DigestItem
from agent.models import Proposal
from agent.records.assessment import Assessment, Facts, HardRuleResult, InjectionFinding, Provenance
from agent.store.records import StoredProposal

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
LINK = "https://snapshot.org/#/ens.eth/proposal/0xabc"
HOSTILE = (
    "@everyone @here <@123> <@!456> <@&789> <#42> </cmd:1> <t:0:R> "
    "[click](https://evil.example/x) ![img](http://evil.example/i.png) "
    "https://bare.example **bold** `code` ||spoiler|| # heading\n> quote "
    "e\u200bvery\u200bone @\u200beveryone \u202eevil\u202c \ufeff\u2066hidden\u2069"
)
BIG = (HOSTILE + " lorem ipsum dolor sit amet ") * 400  # ~ 80 kB

PINGS = [re.compile(p) for p in (r"@(everyone|here)", r"<@[!&]?\d+>", r"<#\d+>", r"</\w+:\d+>")]


def _p(**kw: Any) -> Proposal:
    base: dict[str, Any] = {
        "source": "snapshot", "space": "ens.eth", "id": "0xabc", "state": "active",
        "title": "Fund the public goods working group", "body": "We ask for 250,000 USDC.",
        "start": NOW - timedelta(days=1), "end": NOW + timedelta(hours=5),
        "choices": ["For", "Against", "Abstain"], "scores": [600.0, 300.0, 100.0],
        "scores_total": 1000.0, "votes_count": 42,
        "link": LINK, "discussion": "https://discuss.ens.domains/t/1",
    }  # fmt: skip
    return Proposal(**{**base, **kw})


def _a(**kw: Any) -> Assessment:
    made = Provenance(
        analyst="offline", prompt_hash="p", policy_hash="h", content_hash="c", created=NOW
    )
    base: dict[str, Any] = {
        "proposal_uid": "snapshot:0xabc", "policy_id": "ens", "category": "grants",
        "summary": "Asks for 250,000 USDC for grants.", "facts": Facts(), "findings": [],
        "hard_rules": [], "recommendation": "FOR", "choice": "For", "confidence": 0.8,
        "provenance": made,
    }  # fmt: skip
    return Assessment(**{**base, **kw})


def _stored(p: Proposal) -> StoredProposal:
    times = {"first_seen": NOW, "last_seen": NOW, "deleted_at": None}
    return StoredProposal(proposal=p, **times, indexed_chunks=0, indexed_hash=None)


def _texts(m: Message) -> list[str]:
    out = [m.content]
    for e in m.embeds:
        out += [e.title, e.description, e.footer]
        out += [s for f in e.fields for s in (f.name, f.value)]
    return out


def _check(m: Message, *, stripped: bool = True) -> None:
    """Limits explicitly (not only through the models), and nothing that pings or links.

    `stripped`: masked links lost their URL (the digest escapes them instead).
    """
    assert len(m.content) <= 2000 and len(m.embeds) <= 10
    assert sum(e.size for e in m.embeds) <= 6000
    for e in m.embeds:
        assert len(e.title) <= 256 and len(e.description) <= 4096 and len(e.fields) <= 25
        assert all(len(f.value) <= 1024 and len(f.name) <= 256 for f in e.fields)
        assert e.url is None or e.url.startswith(("https://", "http://"))
    for text in _texts(m):
        for ping in PINGS:
            assert not ping.search(text), (ping.pattern, text[:300])
        assert "](" not in text.replace("\\](", "")
        if stripped:
            assert "evil.example/x" not in text and "evil.example/i" not in text
        assert not re.search(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]", text)
        # the only live URLs are the proposal's own links, in <…>
        for ours in (LINK, "https://discuss.ens.domains/t/1"):
            text = text.replace(f"<{ours}>", "")
        assert not re.search(r"(?<!\\)://", text), text[:300]


# ---- safe ------------------------------------------------------------------------
def test_safe_breaks_mentions_links_and_markup() -> None:
    out = safe(HOSTILE, 2000)
    for ping in PINGS:
        assert not ping.search(out)
    assert "@\u200beveryone" in out and "<\u200b@\u200b&789" in out.replace("\\", "")
    assert "click" in out and "evil.example/x" not in out
    assert "https\\://bare.example" in out
    assert "\\*\\*bold\\*\\*" in out and "\\|\\|spoiler" in out and "\\#" in out
    assert "\u202e" not in out and "\ufeff" not in out and "\u2066" not in out


def test_safe_truncates_with_ellipsis_and_no_dangling_escape() -> None:
    out = safe(BIG, 500)
    assert len(out) <= 500 and out.endswith("…")
    assert not out[:-1].endswith("\\") or out[:-1].endswith("\\\\")
    assert safe("short", 10) == "short"
    assert safe("", 10) == ""
    assert truncate("a" * 9 + "\\*", 10) == "a" * 9 + "…"
    assert safe("x" * 100_000, 50).endswith("…")


def test_multiline_nested_links_and_plain() -> None:
    out = safe("first line\n\n\n\nsecond @here", 100, multiline=True)
    assert out == "first line\n\nsecond @\u200bhere"
    assert strip_links("[[inner](https://a)](https://b) and ![alt](http://c)") == "inner and alt"
    assert safe("[https://snapshot.org](https://evil)", 100) == "https\\://snapshot.org"
    out = plain("@everyone <@&1> snake_case", 100)
    assert out == "@\u200beveryone <\u200b@\u200b&1> snake_case"


# ---- /proposal ---------------------------------------------------------------------
def test_proposal_message_shows_everything_a_delegate_needs() -> None:
    call = "0x" + encode(["address", "uint256"], ["0x" + "be" * 20, 250_000 * 10**6]).hex()
    raw = RawAction(
        target="0x" + "de" * 20, value=0, signature="transfer(address,uint256)", calldata=call
    )
    p = _p(extra=actions_extra(decode_actions([raw])))
    a = _a(
        hard_rules=[
            HardRuleResult(rule="max_outflow", outcome="fail", detail="250000 USDC > 100000")
        ],
        risk_flags=["large grant"],
        injection=[InjectionFinding(kind="addressed_to_ai", excerpt="dear AI")],
        escalate=True,
        escalation_reasons=["hard rule failed"],
    )
    m = builders.proposal_message(_stored(p), a, votes_stored=40)
    _check(m)
    (e,) = m.embeds
    fields = {f.name: f.value for f in e.fields}
    assert e.url == LINK and e.description == "Asks for 250,000 USDC for grants."
    assert "**FOR**" in fields["Recommendation"] and "80%" in fields["Recommendation"]
    assert "needs a human" in fields["Recommendation"]
    assert "max\\_outflow" in fields["Flags"] and "prompt injection" in fields["Flags"]
    assert "Transfer" in fields["Decoded actions"] and "treasury" in fields["Decoded actions"]
    tally = fields["Tally so far"]
    assert "60.0% For" in tally and "30.0% Against" in tally and "40 stored" in tally
    assert re.search(r"ends <t:\d+:R>", fields["State"])
    assert f"<{LINK}>" in fields["Links"] and "<https://discuss.ens.domains/t/1>" in fields["Links"]


def test_proposal_message_without_assessment_uses_the_body() -> None:
    m = builders.proposal_message(_stored(_p(choices=[], scores=[])), None, votes_stored=0)
    _check(m)
    fields = {f.name: f.value for f in m.embeds[0].fields}
    assert "not analysed yet" in fields["Recommendation"] and "Flags" not in fields
    assert "250,000 USDC" in m.embeds[0].description


def test_proposal_message_survives_hostile_and_huge_input() -> None:
    p = _p(
        title=HOSTILE * 10,
        body=BIG,
        choices=[f"{HOSTILE} {i}" for i in range(30)],
        scores=[float(i) for i in range(30)],
        scores_total=None,
        quorum=1e9,
        outcome=HOSTILE,
        link="javascript:alert(1)",
        discussion="https://discuss.ens.domains/t/1 [x](https://evil.example/x)",
        extra=actions_extra(
            decode_actions(
                [RawAction(target="0x" + "ab" * 20, value=1, signature="", calldata="0x12345678")]
                * 50
            )
        ),
    )
    a = _a(
        summary=BIG,
        choice=HOSTILE,
        risk_flags=[HOSTILE * 5] * 30,
        escalate=True,
        escalation_reasons=[HOSTILE] * 10,
        provenance=_a().provenance.model_copy(update={"analyst": HOSTILE}),
    )
    for assessment in (a, None):
        m = builders.proposal_message(_stored(p), assessment, votes_stored=10**9)
        _check(m)
        assert m.embeds[0].url is None


# ---- /proposals ----------------------------------------------------------------------
def test_proposals_page_empty_and_paged() -> None:
    empty = builders.proposals_page([], 1, total=0)
    _check(empty)
    assert empty.embeds[0].footer.startswith("page 1/1")
    assert "No stored proposals" in empty.embeds[0].description
    page = builders.proposals_page([_p(id=f"0x{i}") for i in range(10)], 2, total=45)
    _check(page)
    assert page.embeds[0].footer.startswith("page 2/5")
    assert "**11.**" in page.embeds[0].description and "**20.**" in page.embeds[0].description


def test_proposals_page_with_hostile_titles_fits() -> None:
    many = [_p(id=f"0x{i}" * 30, title=BIG[:5000], space=HOSTILE) for i in range(25)]
    m = builders.proposals_page(many, 1, per_page=25, total=1000)
    _check(m)
    assert m.embeds[0].footer.startswith("page 1/40")
    assert m.embeds[0].description.count("\n\n") == 24


# ---- /policy -------------------------------------------------------------------------
def test_policy_message_lists_principles_within_limits() -> None:
    policy = Policy.model_validate(
        {
            "id": "ens",
            "owner": "delegate.eth @everyone",
            "title": "ENS constitution",
            "principles": [{"id": f"p{i}", "text": HOSTILE * 5} for i in range(40)],
        }
    )
    m = builders.policy_message(policy)
    _check(m)
    fields = {f.name: f.value for f in m.embeds[0].fields}
    assert policy.hash[:16] in fields["Hash"] and "delegate.eth" in fields["Owner"]
    assert "ens" in m.embeds[0].title and "p0 (weight 1)" in fields
    assert "more principle" in m.embeds[0].fields[-1].value
    tracked = builders.policy_message(policy, ["alice: track record: none (no backtest)"])
    _check(tracked)
    fields = {f.name: f.value for f in tracked.embeds[0].fields}
    assert "alice: track record: none" in fields["Track record"]


# ---- digest, alerts, reminders ---------------------------------------------------------
def test_digest_messages_split_and_escape() -> None:
    items = [
        DigestItem(
            uid=f"snapshot:0x{i}",
            title=HOSTILE,
            space="ens.eth",
            source="snapshot",
            state="active",
            link=LINK,
            end=NOW + timedelta(hours=5),
            time_left=timedelta(hours=5),
        )
        for i in range(60)
    ]
    digest = Digest(
        generated=NOW, since=NOW - timedelta(days=1), closing_window=timedelta(hours=48), new=items
    )
    messages = builders.digest_messages(digest)
    assert len(messages) > 1
    for m in messages:
        _check(m, stripped=False)
    empty = Digest(generated=NOW, since=NOW - timedelta(days=1), closing_window=timedelta(hours=48))
    assert "Nothing needs your vote" in builders.digest_messages(empty)[0].content


def test_alert_and_reminder() -> None:
    p = _p(title=HOSTILE, body=BIG, space="ens.eth @here")
    alert = builders.alert_message(p, _a())
    _check(alert)
    assert alert.content.startswith("🆕 **New proposal** in ens.eth @\u200bhere")
    assert len(alert.embeds[0].description) <= 700
    reminder = builders.reminder_message(p, None, NOW)
    _check(reminder)
    assert "in 5 h" in reminder.content and re.search(r"<t:\d+:R>", reminder.content)
    late = builders.reminder_message(p, None, NOW + timedelta(days=1))
    assert "closes soon" in late.content


# ---- /ask and errors ---------------------------------------------------------------------
def test_answer_message_with_sources_and_hostile_text() -> None:
    answer = Answer(
        question=HOSTILE * 3,
        text=BIG,
        found=True,
        citations=[
            Citation(uid="snapshot:0xabc", title=HOSTILE, link=LINK, quote="q"),
            Citation(uid="snapshot:0xdef", title="Other", link="javascript:x", quote="q"),
        ],
        method="model",
    )
    m = builders.answer_message(answer)
    _check(m)
    sources = m.embeds[0].fields[0].value
    assert f"<{LINK}>" in sources and "javascript" not in sources
    assert "check the sources" in m.embeds[0].footer


def test_answer_message_not_found() -> None:
    answer = Answer(question="why?", text="The stored proposals don't answer this.", found=False)
    m = builders.answer_message(answer)
    _check(m)
    assert m.embeds[0].fields == [] and "don't answer" in m.embeds[0].description


@pytest.mark.parametrize("text", ["", HOSTILE, BIG])
def test_error_message_is_ephemeral_and_safe(text: str) -> None:
    m = builders.error_message(text)
    _check(m)
    assert m.ephemeral and m.content
