"""Pull the checkable facts out of a proposal's Markdown: money, addresses, names, time.

Deterministic and conservative: a number is an amount only when a currency or
token marker sits right next to it, so years, EP numbers, percentages, times and
bare table cells stay out. Analysts and hard rules check a model's claims
against these, so a missed amount is better than an invented one.
"""

from __future__ import annotations

import bisect
import itertools
import re
import sys
from collections.abc import Iterable, Iterator
from functools import lru_cache

from agent.records.assessment import Amount, Facts

_KNOWN = "ETH WETH USDC USDT DAI ENS UNI COMP AAVE ARB OP GTC SNX MKR CELO YFI LUSD stETH wstETH"
DEFAULT_SYMBOLS: frozenset[str] = frozenset(f"{_KNOWN} GHO BTC WBTC SAFE EURe".split())
"""Token symbols recognised without a `$` (any `$SYMBOL` is recognised too)."""
MAX_AMOUNTS = 200
MAX_MILESTONES = 10
_MAX_SCAN = 5_000
"""Matches looked at per extractor: a hostile 2 MB body must not cost seconds."""

_CURRENCIES = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "DOLLARS": "USD"}
_CURRENCIES |= {"EURO": "EUR", "EUROS": "EUR"}
_MAGNITUDES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "mil": 1e6}
_MAGNITUDES |= {"million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
_NUMBER = r"(?>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_MAGNITUDE = r"(?i:thousand|million|billion|mil|mm|mn|bn|k|m|b)\b"
_GAP = r"[ \t\u00a0]?"
_YEAR = re.compile(r"(?:19|20)\d\d")
_DATE_WORD = re.compile(
    r"(?i:\b(?:in|since|of|during|by|until|from|to|jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|"
    r"jul\w*|aug\w*|sep\w*|oct\w*|nov\w*|dec\w*|q[1-4]|h[12]|fy))[ \t]*$"
)

_ADDRESS = re.compile(r"(?<![0-9a-fA-Fx])0x[0-9a-fA-F]{40}(?![0-9a-fA-F])")
_URL = re.compile(r"https?://[^\s<>\"'`\[\]{}|\\^]+", re.IGNORECASE)
_URL_TAIL = ".,;:!?*_~'\"\u2019\u201d"
_DOT_ETH = re.compile(r"\.eth")

_COUNT = (
    r"(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"eighteen|twenty|twenty-four|thirty|thirty-six|forty-eight|fifty-two|sixty|ninety)"
)
_UNIT = r"(?:hour|day|week|month|quarter|year)s?"
_DURATION = re.compile(  # over lower-cased text
    rf"\b(?:(?:for\s+)?{_COUNT}(?:\s+|-){_UNIT}(?:-long)?\b|for\s+an?\s+{_UNIT}\b|"
    r"(?:dai|week|bi-?week|month|quarter|year|annual|(?:bi|semi)-?annual)ly\b|"
    r"per\s+(?:hour|day|week|month|quarter|year|annum)\b|p\.a\.|"
    r"(?<=\S)/(?:hr|hour|day|week|mo|month|quarter|yr|year)\b)"
)
_PERIOD = re.compile(r"\b[QH][1-4](?:[ \t]+(?:20\d\d|FY\d\d)|'\d\d)?\b")

_LIST_OR_HEADING = re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)]|#{1,6})[ \t]+(.+)", re.MULTILINE)
_MILESTONE_WORD = re.compile(r"\b(?:milestones?|phases?|deliverables?|tranches?)\b", re.I)


def _lower(text: str) -> str:
    """Lower case with every index unchanged (only U+0130 grows when lower-cased)."""
    return text.replace("\u0130", "I").lower()


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _quantity(tag: str) -> str:
    """`1,200`, `1.2M`, `10-20mm`; groups are tagged so both branches can name them."""
    return (
        rf"(?P<{tag}num>{_NUMBER})(?:{_GAP}[-\u2013]{_GAP}(?P<{tag}upto>{_NUMBER}))?"
        rf"(?:{_GAP}(?P<{tag}mag>{_MAGNITUDE}))?"
    )


@lru_cache(maxsize=8)
def _amount_pattern(symbols: frozenset[str]) -> re.Pattern[str]:
    """One pattern per token set: `$1.2M`, `USD 3.6 million`, `50k ENS`, `500K $ENS`."""
    names = sorted({s for sym in symbols for s in (sym, sym.upper())}, key=len, reverse=True)
    token = rf"(?:\$?(?:{'|'.join(map(re.escape, names))})|\$[A-Z][A-Z0-9]{{1,9}})(?![\w$])"
    prefix = rf"(?P<cur>US\$|\$|€|£|(?:USD|EUR|GBP)(?=[ \t]?\d)){_GAP}{_quantity('p')}"
    prefix += rf"(?:[ \t]+(?P<tok>{token}|USD\b|EUR\b))?"
    suffix = rf"{_quantity('s')}[ \t\u00a0]*(?P<sym>{token}|(?i:dollars|euros?)\b|USD\b|EUR\b)"
    start = r"(?=[$€£UEG\d])(?<![\w$€£.,])"  # a leading character class lets sre skip ahead
    return re.compile(rf"{start}(?:{prefix}|{suffix})")


def _value_and_unit(m: re.Match[str]) -> tuple[float, str]:
    """Ranges (`$10-20mm`) count at their upper end: the most that may be spent."""
    tag = "p" if m.group("cur") else "s"
    number = m.group(f"{tag}upto") or m.group(f"{tag}num")
    magnitude = m.group(f"{tag}mag")
    value = float(number.replace(",", "")) * (_MAGNITUDES[magnitude.lower()] if magnitude else 1)
    marker = m.group("tok") or m.group("sym") or m.group("cur")
    marker = marker.lstrip("$") if len(marker) > 1 else marker
    return value, _CURRENCIES.get(marker.upper(), marker.upper())


def _is_year(text: str, m: re.Match[str]) -> bool:
    """`in 2024 ETH staking`: a year followed by a token name is a date, not an amount."""
    year = m.group("snum") and _YEAR.fullmatch(m.group("snum")) and not m.group("smag")
    return bool(year and _DATE_WORD.search(text, max(m.start() - 12, 0), m.start()))


def extract_amounts(text: str, symbols: frozenset[str] = DEFAULT_SYMBOLS) -> list[Amount]:
    """Money and token quantities in human units, the first mention of each (value, unit)."""
    amounts: dict[tuple[float, str], Amount] = {}
    for m in itertools.islice(_amount_pattern(symbols).finditer(text), _MAX_SCAN):
        key = _value_and_unit(m)
        if key not in amounts and not _is_year(text, m):
            amounts[key] = Amount(value=key[0], unit=key[1], text=m.group().strip())
            if len(amounts) == MAX_AMOUNTS:
                break
    return list(amounts.values())


def extract_addresses(text: str) -> list[str]:
    """Account and contract addresses, lower-cased; 32-byte hashes are not addresses."""
    return _unique(a.lower() for a in itertools.islice(_ADDRESS.findall(text), _MAX_SCAN))


def _clean_url(url: str) -> str:
    """Drop sentence punctuation and the `)` that closes a Markdown link."""
    while url and (url[-1] in _URL_TAIL or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def extract_links(text: str) -> list[str]:
    urls = map(_clean_url, itertools.islice(_URL.findall(text), _MAX_SCAN))
    return _unique(u for u in urls if len(u) > len("https://"))


def _label_char(char: str) -> bool:
    return len(char) == 1 and (char.isalnum() or char in "-_")


def _ens_name(lower: str, dot: int) -> str | None:
    """The dotted name ending in the `.eth` at `dot`, unless it runs on (`x.eth.limo`)."""
    end = dot + 4
    after, then = lower[end : end + 1], lower[end + 1 : end + 2]
    if _label_char(after) or (after == "." and _label_char(then)):
        return None
    start = dot
    while start > max(dot - 255, 0) and (_label_char(lower[start - 1]) or lower[start - 1] == "."):
        start -= 1
    name = lower[start:end].lstrip(".-")
    return name if len(name) > 4 and ".." not in name else None


def extract_ens_names(text: str) -> list[str]:
    """`nick.eth`, `sub.dao.eth`; names inside URLs are link furniture and are skipped."""
    lower = _lower(text)
    urls = [m.span() for m in _URL.finditer(text)]
    dots = itertools.islice(_DOT_ETH.finditer(lower), _MAX_SCAN)
    names = (_ens_name(lower, d.start()) for d in dots if _outside(urls, d.start()))
    return _unique(n for n in names if n)


def _outside(spans: list[tuple[int, int]], pos: int) -> bool:
    i = bisect.bisect_right(spans, (pos, sys.maxsize)) - 1
    return i < 0 or pos >= spans[i][1]


def extract_durations(text: str) -> list[str]:
    """Periods as written (`6 months`, `12-month`, `Q1 2025`, `per month`), first of each."""
    found = itertools.chain(
        itertools.islice(_DURATION.finditer(_lower(text)), _MAX_SCAN),
        itertools.islice(_PERIOD.finditer(text), _MAX_SCAN),
    )
    seen: dict[str, str] = {}
    for start, end in sorted(m.span() for m in found):
        written = " ".join(text[start:end].split())
        seen.setdefault(written.lower(), written)
    return list(seen.values())


def _milestone_lines(text: str) -> Iterator[str]:
    for m in _LIST_OR_HEADING.finditer(text):
        line = m.group(1).strip().rstrip("#").rstrip()
        if _MILESTONE_WORD.search(line):
            yield line if len(line) <= 200 else line[:199] + "…"


def extract_milestones(text: str) -> list[str]:
    """List items and headings about milestones, phases, deliverables or tranches."""
    return list(itertools.islice(dict.fromkeys(_milestone_lines(text)), MAX_MILESTONES))


def extract_facts(text: str, symbols: frozenset[str] = DEFAULT_SYMBOLS) -> Facts:
    """All of the above for one proposal body."""
    return Facts(
        amounts=extract_amounts(text, symbols),
        addresses=extract_addresses(text),
        ens_names=extract_ens_names(text),
        durations=extract_durations(text),
        links=extract_links(text),
        milestones=extract_milestones(text),
    )
