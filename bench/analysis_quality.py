"""Quality of the offline analyst on the ENS assessments: facts kept, evidence,
outcomes, hard rules, categories, and the weaknesses they point to."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Literal

from analysis_common import (
    _FENCED,
    _LEADING_NUMBER,
    _SENTENCE_END,
    _SIMILARITY,
    NEAR_THRESHOLD,
    pct,
    share,
    stats,
)
from analysis_injection import dao_corpus, hostile_report, scan_real
from bench_common import Json

from agent.analysis.decide import MIN_QUOTE_CHARS
from agent.analysis.facts import extract_facts
from agent.analysis.offline import OfflineAnalyst, candidate_sentences
from agent.analysis.policy import Policy
from agent.models import Proposal
from agent.records.assessment import Assessment, Facts
from agent.store import RecordStore


# ---- 3a. fact retention -----------------------------------------------------
def _amount_keys(facts: Facts) -> set[tuple[float, str]]:
    return {(a.value, a.unit) for a in facts.amounts}


def _fact_sets(facts: Facts) -> dict[str, set[Any]]:
    return {
        "amounts": _amount_keys(facts),
        "addresses": set(facts.addresses),
        "ens_names": set(facts.ens_names),
    }


def fact_retention(pairs: list[tuple[Proposal, Assessment]]) -> Json:
    """What the extractive summary keeps of the facts `extract_facts` finds in the body.

    `quotable` counts body amounts that occur in any sentence the offline
    analyst may pick at all (tables and marked-up sentences are never
    candidates): the ceiling for an extractive summary.
    """
    found: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    invented = quotable = with_amount = kept_amount = truncated = 0
    for p, a in pairs:
        body, summary = _fact_sets(a.facts), _fact_sets(extract_facts(a.summary))
        for kind, items in body.items():
            found[kind] += len(items)
            kept[kind] += len(items & summary[kind])
            invented += len(summary[kind] - items)
        candidates = extract_facts("\n".join(candidate_sentences(p.body)))
        quotable += len(body["amounts"] & _amount_keys(candidates))
        if body["amounts"]:
            with_amount += 1
            kept_amount += bool(body["amounts"] & summary["amounts"])
        truncated += len(a.summary) >= 900
    return {
        "found_in_bodies": dict(found),
        "kept_in_summaries": dict(kept),
        "share_kept": {kind: share(kept[kind], found[kind]) for kind in found},
        "amounts_quotable_by_offline_analyst": quotable,
        "share_amounts_quotable": share(quotable, found["amounts"]),
        "proposals_with_an_amount": with_amount,
        "of_which_summary_keeps_one": kept_amount,
        "share_summaries_keeping_an_amount": share(kept_amount, with_amount),
        "summary_facts_not_in_body_facts": invented,
        "summaries_cut_at_900_chars": truncated,
        "summary_chars": stats([len(a.summary) for _, a in pairs], "chars", 1),
    }


# ---- 3b. evidence validity --------------------------------------------------
def _similarity(rationale: str) -> float | None:
    """The cosine the offline analyst states in its rationale, if it does."""
    match = _SIMILARITY.search(rationale)
    return float(match.group(1)) if match else None


def evidence_validity(
    pairs: list[tuple[Proposal, Assessment]], policy: Policy, threshold: float
) -> Json:
    """Are quotes verbatim (checked here independently of `verify_findings`), and how
    discriminating is relevance: per-principle rates, near-threshold calls, reused quotes."""
    relevant = exact = normalised = reused = near = 0
    per_principle: Counter[str] = Counter()
    per_proposal: Counter[int] = Counter()
    sims: list[float] = []
    for p, a in pairs:
        hay = " ".join(f"{p.title}\n{p.body}".split())
        hits = [f for f in a.findings if f.stance != "not_relevant"]
        per_proposal[len(hits)] += 1
        quotes = Counter(f.evidence for f in hits)
        for f in hits:
            relevant += 1
            per_principle[f.principle_id] += 1
            exact += f.evidence in p.body
            quote = " ".join(f.evidence.split())
            normalised += len(quote) >= MIN_QUOTE_CHARS and quote in hay
            reused += quotes[f.evidence] > 1
            sim = _similarity(f.rationale)
            if sim is not None:
                sims.append(sim)
                near += sim < threshold + NEAR_THRESHOLD
    n = len(pairs)
    return {
        "findings": sum(len(a.findings) for _, a in pairs),
        "relevant_findings": relevant,
        "with_verbatim_quote": normalised,
        "share_verbatim": share(normalised, relevant),
        "share_byte_exact": share(exact, relevant),
        "dropped_findings": sum(a.dropped_findings for _, a in pairs),
        "principle_relevance_rate": {
            pr.id: share(per_principle[pr.id], n) for pr in policy.principles
        },
        "proposals_by_relevant_principles": {str(k): per_proposal[k] for k in sorted(per_proposal)},
        "quotes_shared_by_2plus_principles": share(reused, relevant),
        "relevant_similarity": stats(sims, "cos", 3),
        "relevance_threshold": threshold,
        "share_within_0.05_of_threshold": share(near, len(sims)),
    }


def _defect(quote: str, body: str) -> str | None:
    """How a verbatim quote still misrepresents the body, if it does.

    `candidate_sentences` skips the fence lines of a code block but not the
    code, and its markup pattern strips leading digits, so `1,798 names` can
    be quoted as `,798 names`. Both pass the verbatim check.
    """
    at = body.find(quote)
    if at < 0:
        return None
    if any(m.start() <= at < m.end() for m in _FENCED.finditer(body)):
        return "code block"
    line = body[body.rfind("\n", 0, at) + 1 : at]
    lead = _SENTENCE_END.split(line)[-1]
    if _LEADING_NUMBER.fullmatch(lead) and not lead.rstrip().endswith("."):
        return "lost leading number"
    return None


def quote_defects(pairs: list[tuple[Proposal, Assessment]]) -> Json:
    """Defects in the findings' quotes and, at the source, in every candidate sentence."""
    quotes: Counter[str] = Counter()
    candidates: Counter[str] = Counter()
    examples: dict[str, str] = {}
    total = 0
    for p, a in pairs:
        for f in a.findings:
            if f.evidence:
                quotes[_defect(f.evidence, p.body) or "none"] += 1
        for sentence in candidate_sentences(p.body):
            total += 1
            kind = _defect(sentence, p.body)
            if kind:
                candidates[kind] += 1
                examples.setdefault(kind, f"{p.id}: {sentence[:80]}")
    return {
        "finding_quotes": dict(quotes),
        "candidate_sentences": total,
        "candidate_defects": dict(candidates),
        "share_candidates_defective": share(sum(candidates.values()), total),
        "examples": examples,
    }


# ---- 3c. recommendation vs published outcome --------------------------------
def outcome_class(outcome: str | None) -> Literal["passed", "rejected", "other"]:
    """The ENS docs' status: `Passed…`/`Approved…` passed, `Rejected` not, the rest other."""
    text = (outcome or "").strip().lower()
    if text.startswith(("passed", "approved")):
        return "passed"
    return "rejected" if text.startswith("rejected") else "other"


def _reason_kind(reason: str) -> str:
    """An escalation reason without its numbers and detail, for counting."""
    return re.sub(r"\d+(?:\.\d+)?", "N", reason.split(":")[0]).strip()


def outcome_agreement(pairs: list[tuple[Proposal, Assessment]]) -> Json:
    """Confusion of recommendation vs outcome, against the always-FOR baseline.

    Agreement is FOR on passed plus AGAINST on rejected, over the proposals
    with a decisive recommendation and outcome; ABSTAIN is counted apart.
    """
    confusion = {r: Counter() for r in ("FOR", "AGAINST", "ABSTAIN")}
    for p, a in pairs:
        confusion[a.recommendation][outcome_class(p.outcome)] += 1
    decided = sum(confusion[r][o] for r in ("FOR", "AGAINST") for o in ("passed", "rejected"))
    agree = confusion["FOR"]["passed"] + confusion["AGAINST"]["rejected"]
    passed = sum(c["passed"] for c in confusion.values())
    rejected = sum(c["rejected"] for c in confusion.values())
    escalated = [a for _, a in pairs if a.escalate]
    reasons = Counter(_reason_kind(r) for a in escalated for r in a.escalation_reasons)
    return {
        "confusion": {
            r: {o: c[o] for o in ("passed", "rejected", "other")} for r, c in confusion.items()
        },
        "agreement_on_decided": share(agree, decided),
        "decided": decided,
        "always_for_baseline": share(passed, passed + rejected),
        "rejected_recommended_for": [
            p.id
            for p, a in pairs
            if a.recommendation == "FOR" and outcome_class(p.outcome) == "rejected"
        ],
        "share_escalated": share(len(escalated), len(pairs)),
        "escalation_reasons": dict(reasons.most_common()),
        "confidence": stats([a.confidence for _, a in pairs], "conf", 3),
    }


def hard_rule_report(pairs: list[tuple[Proposal, Assessment]]) -> Json:
    """How often each hard rule applies and fails, and the failures against the outcome."""
    outcomes = Counter(f"{r.rule}:{r.outcome}" for _, a in pairs for r in a.hard_rules)
    failures = [
        {
            "id": p.id,
            "title": p.title[:90],
            "rule": r.rule,
            "detail": r.detail[:160],
            "published": p.outcome,
        }
        for p, a in pairs
        for r in a.hard_rules
        if r.outcome == "fail"
    ]
    failed_passed = sum(outcome_class(f["published"]) == "passed" for f in failures)
    return {
        "outcomes": dict(sorted(outcomes.items())),
        "failures": failures,
        "failures_on_proposals_that_passed": failed_passed,
    }


# ---- 3e. categories ------------------------------------------------------------
def category_report(pairs: list[tuple[Proposal, Assessment]]) -> Json:
    """Spread of categories, with a few titles each so a reader can judge them."""
    counts = Counter(a.category for _, a in pairs)
    examples: dict[str, list[str]] = {}
    for p, a in pairs:
        examples.setdefault(a.category, [])
        if len(examples[a.category]) < 4:
            examples[a.category].append(p.title[:80])
    return {
        "counts": dict(counts.most_common()),
        "share_other": share(counts["other"], len(pairs)),
        "examples": examples,
    }


def bench_quality(
    pairs: list[tuple[Proposal, Assessment]],
    policy: Policy,
    analyst: OfflineAnalyst,
    store: RecordStore,
) -> Json:
    """3a-3e over the ENS assessments, plus the injection corpora and the hostile set."""
    ens_texts = [(p.id, f"{p.title}\n{p.body}") for p, _ in pairs]
    return {
        "fact_retention": fact_retention(pairs),
        "evidence": evidence_validity(pairs, policy, analyst.relevance),
        "quote_defects": quote_defects(pairs),
        "outcome": outcome_agreement(pairs),
        "hard_rules": hard_rule_report(pairs),
        "injection": {
            "ens": scan_real("ENS proposals", ens_texts),
            "dao_corpus": scan_real("shared/data/dao-proposals", dao_corpus()),
            "hostile": hostile_report(policy, analyst, store),
        },
        "categories": category_report(pairs),
    }


def weaknesses(q: Json) -> list[str]:
    """Where the numbers say the offline analyst is weak; derived, not hard-coded."""
    o, f, e = q["outcome"], q["fact_retention"], q["evidence"]
    dao, hard = q["injection"]["dao_corpus"], q["hard_rules"]
    agree, base = o["agreement_on_decided"], o["always_for_baseline"]
    notes = []
    if agree is not None and base is not None:
        verdict = "no better than" if agree <= base else "better than"
        notes.append(
            f"recommendations agree with the published outcome {pct(agree)} of the time, "
            f"{verdict} always voting FOR ({pct(base)})"
        )
    notes.append(
        f"summaries keep {pct(f['share_kept'].get('amounts'))} of the amounts in the body; "
        f"{pct(f['share_amounts_quotable'])} of them are in sentences the analyst may quote"
    )
    rates = e["principle_relevance_rate"]
    top = max(rates, key=lambda k: rates[k] or 0)
    notes.append(
        f"'{top}' is judged relevant to {pct(rates[top])} of proposals; "
        f"{pct(e['share_within_0.05_of_threshold'])} of relevant calls are within "
        f"{NEAR_THRESHOLD} of the threshold"
    )
    notes.append(
        f"{pct(dao['share'])} of real DAO proposals carry an injection finding, "
        f"{pct(dao['share_capping'])} one that forces ABSTAIN"
    )
    hostile = q["injection"]["hostile"]
    notes.append(
        f"hostile set: {hostile['detected']}/{hostile['attacks']} detected, "
        f"{hostile['capped']} capped at ABSTAIN; missed: {', '.join(hostile['missed']) or 'none'}"
    )
    notes.append(
        f"{len(hard['failures'])} hard-rule failures, {hard['failures_on_proposals_that_passed']}"
        " on proposals the DAO passed"
    )
    notes.append(f"{pct(o['share_escalated'])} of assessments go to a human")
    return notes
