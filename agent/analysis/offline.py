"""The offline analyst: extractive summary, embedding match to principles, no model calls.

It is the default when no LLM is configured and what the demo runs. It is
honest about being a heuristic: it cannot tell whether a proposal complies
with a principle, only that it touches it, so its confidence is capped low
(`analysis.offline_confidence_cap`) and it never decides a vote on its own.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Sequence

from agent.analysis.policy import Policy
from agent.models import Proposal
from agent.ports import Embedder
from agent.records.assessment import Category, Draft, Facts, HardRuleResult, PrincipleFinding

VERSION = "offline-2"
_PASSAGE_CACHE = 256  # proposals whose sentence vectors are kept (~34 x 1.5 KB each)
_HEADING = re.compile(r"(?im)^#{1,4}\s*(summary|abstract|tl;?dr|overview|motivation)\b.*$")
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_LEAD = re.compile(r"^(?:#{1,6}|>|[*+\-]|\d{1,3}[.)])\s+")
# Word prefixes, matched at word starts ("elect" must not hit "selection").
_CATEGORIES: dict[Category, tuple[str, ...]] = {
    "constitution": ("constitution", "amend the constitution", "bylaw"),
    "elections": ("election", "elect ", "nominee", "nomination", "candidate", "council member"),
    "security": ("security", "upgrade", "multisig", "vulnerab", "audit", "emergency"),
    "pricing": ("price", "pricing", "registration fee", "renewal fee", "premium", "oracle"),
    "grants": ("grant", "public goods", "bounty", "funding request", "retroactive"),
    "treasury": ("treasury", "endowment", "budget", "usdc", "diversif", "invest"),
    "governance": (
        "quorum",
        "voting power",
        "delegate",
        "governance process",
        "proposal threshold",
    ),
    "protocol": ("contract", "resolver", "registrar", "deploy", "controller", "dnssec"),
}


def candidate_sentences(body: str, limit: int = 400) -> list[str]:
    """Sentences copied from the body (verbatim apart from whitespace), tables skipped."""
    out: list[str] = []
    in_code = False
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code or not stripped or stripped.startswith("|"):
            continue
        for sentence in _SENTENCE.split(_LEAD.sub("", stripped)):
            sentence = sentence.strip()
            if 30 <= len(sentence) <= 400 and sentence in body:
                out.append(sentence)
        if len(out) >= limit:
            break
    return list(dict.fromkeys(out))


def strip_comments(text: str) -> str:
    """The text a reader sees: HTML comments removed (an unclosed one runs to the end)."""
    return _COMMENT.sub("", text)


def _lead(body: str, sentences: list[str]) -> list[str]:
    match = _HEADING.search(body)
    if match:
        section = body[match.end() :].split("\n#", 1)[0]
        picked = [s for s in candidate_sentences(section, 5)]
        if picked:
            return picked[:3]
    return sentences[:3]


def categorise(proposal: Proposal) -> Category:
    text = " " + re.sub(r"\W+", " ", f"{proposal.title} {proposal.body[:4000]}".lower())
    title = " " + re.sub(r"\W+", " ", proposal.title.lower())
    scores = {c: sum(text.count(" " + w) for w in words) for c, words in _CATEGORIES.items()}
    for category, words in _CATEGORIES.items():
        if any(" " + w in title for w in words):
            scores[category] += 5
    best = max(scores, key=lambda c: scores[c])
    return best if scores[best] > 0 else "other"


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return float(sum(x * y for x, y in zip(a, b, strict=True)))  # vectors are normalised


class OfflineAnalyst:
    """A Draft from text alone, by rules and embeddings."""

    id = "offline"

    def __init__(self, embedder: Embedder, *, relevance: float = 0.35) -> None:
        self.embedder = embedder
        self.relevance = relevance
        self.prompt_hash = hashlib.sha256(f"{VERSION}:{relevance}".encode()).hexdigest()
        # Vectors are kept per policy version and per proposal version: one delegate's run,
        # or several delegates with their own policies, embed each only once.
        self._principles: dict[str, list[list[float]]] = {}
        self._passages: OrderedDict[str, list[list[float]]] = OrderedDict()

    def draft(
        self, proposal: Proposal, policy: Policy, facts: Facts, hard_rules: list[HardRuleResult]
    ) -> Draft:
        visible = strip_comments(proposal.body)  # hidden text is no summary material
        sentences = candidate_sentences(visible)
        summary = " ".join(_lead(visible, sentences)) or proposal.title
        findings = self._findings(policy, sentences, proposal.content_hash)
        relevant = [f for f in findings if f.stance != "not_relevant"]
        weight = {p.id: p.weight for p in policy.principles}
        score = sum(weight[f.principle_id] for f in relevant) / sum(weight.values())
        recommendation = "FOR" if relevant else "ABSTAIN"
        flags = [f"asks for {a.text}" for a in facts.amounts[:3]]
        flags += [f"hard rule {r.rule}: {r.detail}" for r in hard_rules if r.outcome == "fail"]
        if not proposal.discussion:
            flags.append("no discussion link")
        return Draft(
            summary=summary[:900],
            category=categorise(proposal),
            findings=findings,
            risk_flags=flags,
            recommendation=recommendation,
            confidence=round(0.25 + 0.5 * score, 3),
            rationale=(
                f"Heuristic: the proposal touches {len(relevant)} of {len(findings)} principles; "
                "the offline analyst cannot judge compliance, a person should read the quotes."
            ),
        )

    def _principle_vectors(self, policy: Policy) -> list[list[float]]:
        if policy.hash not in self._principles:
            self._principles[policy.hash] = self.embedder.embed([p.text for p in policy.principles])
        return self._principles[policy.hash]

    def _passage_vectors(self, content_hash: str, sentences: list[str]) -> list[list[float]]:
        vectors = self._passages.pop(content_hash, None)
        if vectors is None or len(vectors) != len(sentences):
            vectors = self.embedder.embed(sentences)
        self._passages[content_hash] = vectors
        while len(self._passages) > _PASSAGE_CACHE:
            self._passages.popitem(last=False)
        return vectors

    def _findings(
        self, policy: Policy, sentences: list[str], content_hash: str
    ) -> list[PrincipleFinding]:
        if not sentences:
            return [
                PrincipleFinding(
                    principle_id=p.id,
                    stance="not_relevant",
                    rationale="the proposal has no text to match",
                )
                for p in policy.principles
            ]
        principle_vecs = self._principle_vectors(policy)
        sentence_vecs = self._passage_vectors(content_hash, sentences)
        findings = []
        for principle, pvec in zip(policy.principles, principle_vecs, strict=True):
            sims = [_cosine(pvec, svec) for svec in sentence_vecs]
            best = max(range(len(sims)), key=sims.__getitem__)
            if sims[best] >= self.relevance:
                findings.append(
                    PrincipleFinding(
                        principle_id=principle.id,
                        stance="supports",
                        evidence=sentences[best],
                        rationale=f"closest passage (similarity {sims[best]:.2f}) addresses this "
                        "principle; compliance not verified by a model",
                    )
                )
            else:
                findings.append(
                    PrincipleFinding(
                        principle_id=principle.id,
                        stance="not_relevant",
                        rationale=f"no passage close to this principle (best {sims[best]:.2f})",
                    )
                )
        return findings
