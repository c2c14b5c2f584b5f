"""Spot instruction-like content in proposal text before a model reads it.

Proposal bodies are written by anyone, including people who target AI voters.
`detect_injection` reports what it finds and never edits the proposal;
`neutralise` makes hidden content visible before the text goes into a prompt.

Phrases are matched on a normalised copy (NFKC, HTML entities decoded, hidden
characters removed, tag-character payloads spelled out, Cyrillic/Greek
look-alikes folded, Markdown emphasis dropped), so fullwidth letters and
`ig<ZWSP>nore` match like `ignore`. Patterns were calibrated on ~2,000 real
DAO proposals: each needs a model-directed verb or an AI addressee, never a
bare keyword. A rule's regex runs only when its gate words all occur, which
keeps an ordinary proposal to a few passes.
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator

from agent.analysis.injection_rules import END_OF_INPUT as _END_OF_INPUT
from agent.analysis.injection_rules import FOLLOW as _FOLLOW
from agent.analysis.injection_rules import RULES as _RULES
from agent.analysis.injection_rules import Kind
from agent.analysis.injection_rules import Rule as _Rule
from agent.records.assessment import InjectionFinding

Hit = tuple[Kind, str, str]
"""(kind, dedupe key, excerpt)."""

MAX_FINDINGS = 20
_PER_KIND = 6
_EXCERPT = 160
_MAX_RUNS = 64
"""Hidden-character runs examined one by one; beyond this, the volume is the finding."""

_CF_RANGES = (
    (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891),
    (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064),
    (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE007F),
)  # fmt: skip
"""Every format (Cf) character but the soft hyphen, as of Unicode 15, plus unassigned tags."""
_CF = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CF_RANGES)
_PICT = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u21aa\u231a-\u23ff\u24c2\u25aa-\u27bf"
    "\u2934\u2935\u2b05-\u2b55\u3030\u303d\u3297\u3299\ufe0f\U0001f000-\U0001faff"
)
_SELECTOR = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_CONTROLS = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
_MARKS = {c: f"<U+{c:04X}>" for lo, hi in _CF_RANGES for c in range(lo, hi + 1)} | {
    c: f"<U+{c:04X}>" for c in _CONTROLS
}
_MARKABLE = re.compile(f"[{_CF}{''.join(map(chr, _CONTROLS))}]")
_EMOJI_ZWJ = re.compile(f"\u200d(?:(?=[{_PICT}])|(?<=[{_PICT}]\u200d))")
_EMOJI_ZWJ_MARK = re.compile(f"<U\\+200D>(?:(?=[{_PICT}])|(?<=[{_PICT}]<U\\+200D>))")
_FLAG = re.compile("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{1,6}\U000e007f")
_FLAG_MARK = re.compile(r"\U0001f3f4(?:<U\+E00(?:3[0-9]|6[1-9A-F]|7[0-9A])>){1,6}<U\+E007F>")
_MARKER = re.compile(r"<U\+([0-9A-F]{4,5})>")
_SUSPECT = re.compile(f"[{_CF}{_SELECTOR}]")
_CF_RUN = re.compile(f"[{_CF}]+")
_CF_ANY = re.compile(f"[{_CF}]")
_SELECTORS = re.compile(f"[{_SELECTOR}]{{2,}}")
_PAYLOAD = re.compile(f"[\U000e0000-\U000e007f{_SELECTOR}]+")
_TAG_CHAR = re.compile("[\U000e0000-\U000e007f]")
_ALWAYS = re.compile("[\u202a-\u202e\u2066-\u2069\ufff9-\ufffb\U000e0000-\U000e007f]")
_JOINERS = frozenset("\u200c\u200d")
_LOOKALIKES = dict(
    zip(
        "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u0261"
        "\u0391\u0392\u0395\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a7\u03a5\u0396"
        "\u03b1\u03bf\u03c1",
        "aeopcyxijsdgABEHIKMNOPTXYZaop",
        strict=True,
    )
)
_LOOKALIKE = re.compile(f"[{''.join(_LOOKALIKES)}]")
_EMPHASIS = re.compile(r"[*_`\\]+")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-z]+")


_TAG = re.compile(r"<[a-z][\w-]*\s[^<>]{0,600}>", re.IGNORECASE)
_HIDING_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*(?:0+(?:\.0+)?|\.0+)\s*(?:[;\"']|$)|"
    r"font-size\s*:\s*(?:0*\.?0+(?:px|pt|em|rem|%)?|0*\.\d+(?:px|pt)|1(?:px|pt))\s*(?:[;\"']|$)|"
    r"(?:^|\s)hidden(?:[\s=/>]|$)|(?:left|top|text-indent)\s*:\s*-\d{3,}",
    re.IGNORECASE,
)
_WHITE_TEXT = re.compile(
    r"(?<![\w-])color\s*[:=]\s*[\"']?\s*(?:#fff(?:fff)?\b|white\b|rgb\(\s*255\s*,\s*255\s*,\s*255)",
    re.IGNORECASE,
)
_ATTR_TEXT = re.compile(r"\b(?:alt|title)\s*=\s*(?:\"([^\"\n]{1,300})\"|'([^'\n]{1,300})')", re.I)
_IMAGE_ALT = re.compile(r"!\[([^\[\]\n]{1,500})\]\(")
_LINK_TITLE = re.compile(r"\]\([^)\s]*\s+(?:\"([^\"\n]{1,300})\"|'([^'\n]{1,300})')\s*\)")
_MD_COMMENT = re.compile(
    r"^[ \t]{0,3}\[(?://|#|comment)\]:\s*<?[^\s>]*>?\s+(?:\(([^)\n]+)\)|\"([^\"\n]+)\")",
    re.IGNORECASE | re.MULTILINE,
)


def _mark(text: str) -> str:
    """Hidden and control characters as `<U+XXXX>`; emoji joiners and flags stay."""
    if not _MARKABLE.search(text):
        return text
    marked = text.translate(_MARKS)
    if "\u200d" in text:
        marked = _EMOJI_ZWJ_MARK.sub("\u200d", marked)
    if "\U0001f3f4" in text:
        marked = _FLAG_MARK.sub(
            lambda m: _MARKER.sub(lambda c: chr(int(c.group(1), 16)), m.group()), marked
        )
    return marked


def _clip(text: str) -> str:
    text = _SPACE.sub(" ", _mark(text[: _EXCERPT * 3])).strip()
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def _around(text: str, start: int, end: int | None = None) -> str:
    """From `start`, or with a little context before a hidden run [start, end)."""
    if end is None:
        return _clip(text[start : start + _EXCERPT])
    run = text[start:end]
    shown = _mark(run) if len(run) <= 3 else f"{_mark(run[0])}…({len(run)} chars)"
    lead = text[max(start - 30, 0) : start]
    lead = lead[lead.find(" ") + 1 :] if start > 30 else lead
    return _clip(lead + shown + text[end : end + _EXCERPT])


def _decode_payload(run: str) -> str:
    """The text smuggled in tag characters (ASCII) or variation selectors (bytes)."""
    codes = [ord(c) for c in run[:400]]
    tags = [c - 0xE0000 for c in codes if 0xE0000 <= c <= 0xE007F]
    if tags:
        return "".join(chr(t) for t in tags if 0x20 <= t < 0x7F)
    data = bytes(c - 0xFE00 if c <= 0xFE0F else c - 0xE0100 + 16 for c in codes if c >= 0xFE00)
    return "".join(c for c in data.decode("utf-8", errors="replace") if c.isprintable())


def _spell_payload(m: re.Match[str]) -> str:
    return f" {_decode_payload(m.group())} " if len(m.group()) > 1 else ""


def _matchable(text: str) -> str:
    """A copy for phrase matching: obfuscation undone, hidden payloads spelled out."""
    if "&" in text:
        text = html.unescape(text)
    if _SUSPECT.search(text):
        text = _CF_ANY.sub("", _PAYLOAD.sub(_spell_payload, text, count=_MAX_RUNS))
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = _LOOKALIKE.sub(lambda m: _LOOKALIKES[m.group()], text)
    return _EMPHASIS.sub("", text)


def _run_reason(text: str, start: int, end: int) -> str | None:
    """Why a run of hidden characters matters, or None for a harmless stray."""
    run = text[start:end]
    if _ALWAYS.search(run):
        payload = _decode_payload(run) if _TAG_CHAR.search(run) else ""
        return f'tag characters hiding "{payload}"' if payload else "bidi or annotation control"
    if len(set(run)) > 1:
        return "mixed zero-width run"
    before, after = text[start - 1 : start], text[end : end + 1]
    joiner = set(run) <= _JOINERS and all("\u0590" <= c <= "\u0dff" for c in before + after)
    return "inside a word" if before.isalnum() and after.isalnum() and not joiner else None


def _hidden_unicode(text: str) -> Iterable[Hit]:
    """Stray zero-width spaces at word edges are paste debris and are not reported.

    ZWNJ/ZWJ inside Arabic-script or Indic words is spelling; a ZWJ next to an
    emoji and tags after a black flag make up one visible emoji.
    """
    if not _SUSPECT.search(text):
        return
    body = _FLAG.sub("\U0001f3f4", text[1:] if text.startswith("\ufeff") else text)
    body = _EMOJI_ZWJ.sub("", body)
    runs = list(itertools.islice(_CF_RUN.finditer(body), _MAX_RUNS + 1))
    if len(runs) > _MAX_RUNS:
        count = len(body) - len(_CF_ANY.sub("", body))
        yield (
            "hidden_unicode",
            "volume",
            _clip(f"{count} hidden characters: {_around(body, runs[0].start(), runs[0].end())}"),
        )
    for m in runs[:_MAX_RUNS]:
        reason = _run_reason(body, m.start(), m.end())
        if reason:
            names = _mark("".join(sorted(set(m.group()[:400])))[:4])
            excerpt = _clip(f"{names} {reason}: {_around(body, m.start(), m.end())}")
            yield "hidden_unicode", reason + names, excerpt
    for m in itertools.islice(_SELECTORS.finditer(body), _MAX_RUNS):
        if any(c >= "\U000e0100" for c in m.group()):
            payload = _decode_payload(m.group())
            yield "hidden_unicode", payload, _clip(f'variation selectors hiding "{payload}"')


def _html_comments(text: str) -> Iterable[Hit]:
    """str.find, not a regex: an unclosed `<!--` must not cost quadratic time.

    Only the first _MAX_RUNS comments are quoted; words inside any comment are
    still matched by the phrase rules, which read the whole text.
    """
    start, seen = text.find("<!--"), 0
    while start != -1 and seen < _MAX_RUNS:
        end = text.find("-->", start + 4)
        inner = text[start + 4 : end if end != -1 else len(text)][:400]
        if inner.strip():
            yield "html_comment", _SPACE.sub(" ", inner).strip().lower(), _clip(f"<!--{inner}-->")
        start, seen = (-1 if end == -1 else text.find("<!--", end + 3)), seen + 1


def _instruction_like(text: str) -> bool:
    return next(iter(_phrases(_matchable(text))), None) is not None


def _hidden_markup(text: str) -> Iterable[Hit]:
    for m in _TAG.finditer(text):
        tag = m.group()
        white = _WHITE_TEXT.search(tag) and "background" not in tag.lower()
        if white or _HIDING_STYLE.search(tag):
            yield "hidden_markup", tag.lower(), _clip(text[m.start() : m.end() + 120])
        for attr in _ATTR_TEXT.finditer(tag):
            if _instruction_like(attr.group(1) or attr.group(2)):
                yield "hidden_markup", attr.group().lower(), _clip(attr.group())
    for m in itertools.chain(_IMAGE_ALT.finditer(text), _LINK_TITLE.finditer(text)):
        if _instruction_like(next(g for g in m.groups() if g)):
            yield "hidden_markup", m.group().lower(), _clip(m.group())
    if "]:" in text:
        for m in _MD_COMMENT.finditer(text):
            yield "hidden_markup", m.group().lower(), _clip(m.group())


def _present(word: str, words: set[str], lower: str) -> bool:
    """Whole words (or their plural); snippets with punctuation are looked up as text."""
    return word in words or word + "s" in words if word.isalpha() else word in lower


def _matches(rule: _Rule, words: set[str], lower: str) -> Iterator[re.Match[str]]:
    if all(any(_present(w, words, lower) for w in gate) for gate in rule.gates):
        for first, pattern in rule.patterns:
            if not first or _present(first, words, lower):
                yield from itertools.islice(pattern.finditer(lower), 50)


def _phrases(copy: str) -> Iterable[Hit]:
    lower = copy.replace("\u0130", "I").lower()  # same length, so indexes carry over
    words = set(_WORD.findall(lower))
    for rule in _RULES:
        for m in _matches(rule, words, lower):
            yield rule.kind, _SPACE.sub(" ", m.group()).strip(), _around(copy, m.start())
    for m in _matches(_END_OF_INPUT, words, lower):
        if _FOLLOW.search(lower, m.end(), m.end() + 300):
            yield "fake_system_message", "end of input", _around(copy, m.start())


_DETECTORS: tuple[Callable[[str], Iterable[Hit]], ...] = (
    _hidden_unicode,
    _html_comments,
    _hidden_markup,
    lambda text: _phrases(_matchable(text)),
)
_ORDER: tuple[Kind, ...] = (
    "fake_system_message",
    "instruction_to_model",
    "addressed_to_ai",
    "hidden_markup",
    "hidden_unicode",
    "html_comment",
)


def detect_injection(text: str) -> list[InjectionFinding]:
    """One finding per distinct hit, most telling kinds first, at most MAX_FINDINGS."""
    seen: set[tuple[Kind, str]] = set()
    by_kind: dict[Kind, list[InjectionFinding]] = {kind: [] for kind in _ORDER}
    for kind, key, excerpt in itertools.chain(*(detect(text) for detect in _DETECTORS)):
        if {(kind, key), (kind, excerpt)}.isdisjoint(seen) and len(by_kind[kind]) < _PER_KIND:
            seen.update({(kind, key), (kind, excerpt)})
            by_kind[kind].append(InjectionFinding(kind=kind, excerpt=excerpt))
    return [f for kind in _ORDER for f in by_kind[kind]][:MAX_FINDINGS]


def neutralise(text: str) -> str:
    """Text safe to quote in a prompt: hidden characters shown, HTML comments cut."""
    out: list[str] = []
    pos = 0
    start = text.find("<!--")
    while start != -1:
        out.append(text[pos:start] + "[hidden comment removed]")
        end = text.find("-->", start + 4)
        pos = len(text) if end == -1 else end + 3
        start = -1 if end == -1 else text.find("<!--", pos)
    out.append(text[pos:])
    joined = "".join(out)
    return _mark(joined[1:] if joined.startswith("\ufeff") else joined)
