"""The backtest as one self-contained HTML page: figures, reliability chart, confusion
matrix (inline SVG), every disagreement. No scripts, no external resources."""

from __future__ import annotations

from html import escape

from agent.backtest.metrics import POSITIONS, Metrics
from agent.backtest.models import BacktestReport


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def reliability_svg(m: Metrics, size: int = 280) -> str:
    """Mean confidence (x) against observed agreement (y) per band; the diagonal is perfect."""
    pad = 36
    inner = size - 2 * pad

    def xy(x: float, y: float) -> tuple[float, float]:
        return pad + x * inner, size - pad - y * inner

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="reliability" width="{size}" '
        f'height="{size}" viewBox="0 0 {size} {size}" role="img" '
        'aria-label="Reliability chart">',
        f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="#fafafa" '
        'stroke="#999"/>',
        f'<line x1="{pad}" y1="{size - pad}" x2="{size - pad}" y2="{pad}" stroke="#bbb" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{size / 2}" y="{size - 8}" text-anchor="middle" font-size="11">'
        "confidence</text>",
        f'<text x="10" y="{size / 2}" font-size="11" transform="rotate(-90 10 {size / 2})" '
        'text-anchor="middle">agreement</text>',
    ]
    for tick in (0.0, 0.5, 1.0):
        x, y = xy(tick, tick)
        parts.append(
            f'<text x="{x:.0f}" y="{size - pad + 13}" text-anchor="middle" font-size="10">'
            f"{tick:g}</text>"
            f'<text x="{pad - 4}" y="{y + 3:.0f}" text-anchor="end" font-size="10">{tick:g}</text>'
        )
    points = [b for b in m.reliability if b.n and b.mean_confidence is not None]
    for b in points:
        assert b.mean_confidence is not None and b.agreement is not None
        x, y = xy(b.mean_confidence, b.agreement)
        r = 3 + min(b.n, 50) ** 0.5
        parts.append(
            f'<circle class="band" cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="#3b82f6" '
            f'fill-opacity="0.7"><title>{b.low:.1f}-{b.high:.1f}: n={b.n}, '
            f"agreement {_pct(b.agreement)}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def confusion_svg(m: Metrics, cell: int = 56) -> str:
    """Rows: the voter's vote; columns: Steward's recommendation (NONE included)."""
    cols = [*POSITIONS, "NONE"]
    rows = list(POSITIONS)
    left, top = 80, 40
    width, height = left + cell * len(cols) + 10, top + cell * len(rows) + 10
    peak = max([1, *(m.confusion[r][c] for r in rows for c in cols)])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="confusion" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Confusion matrix">'
    ]
    for j, c in enumerate(cols):
        parts.append(
            f'<text x="{left + j * cell + cell / 2}" y="{top - 8}" text-anchor="middle" '
            f'font-size="11">{c}</text>'
        )
    for i, r in enumerate(rows):
        y = top + i * cell
        parts.append(
            f'<text x="{left - 8}" y="{y + cell / 2 + 4}" text-anchor="end" '
            f'font-size="11">{r}</text>'
        )
        for j, c in enumerate(cols):
            count = m.confusion[r][c]
            shade = 0.08 + 0.8 * count / peak
            colour = "34,197,94" if r == c else "239,68,68"
            parts.append(
                f'<rect class="cell" x="{left + j * cell}" y="{y}" width="{cell - 2}" '
                f'height="{cell - 2}" fill="rgba({colour},{shade:.2f})"/>'
                f'<text x="{left + j * cell + cell / 2 - 1}" y="{y + cell / 2 + 4}" '
                f'text-anchor="middle" font-size="13">{count}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _row(name: str, m: Metrics) -> str:
    against = m.per_choice["AGAINST"]
    return (
        f"<tr><th>{escape(name)}</th><td>{m.n}</td><td>{_pct(m.coverage)}</td>"
        f"<td>{_pct(m.agreement)}</td><td>{_num(m.kappa)}</td>"
        f"<td>{_pct(against.recall)}</td><td>{_pct(against.precision)}</td>"
        f"<td>{_num(m.brier)}</td></tr>"
    )


def render_html(report: BacktestReport) -> str:
    ident = report.identity
    s = report.steward
    rows = "".join(
        [
            _row(f"Steward ({ident.analyst})", s),
            _row("always FOR", report.always_for),
            _row("DAO outcome", report.outcome),
        ]
    )
    bands = "".join(
        f"<tr><td>{b.low:.1f}-{b.high:.1f}</td><td>{b.n}</td><td>{_pct(b.mean_confidence)}</td>"
        f"<td>{_pct(b.agreement)}</td></tr>"
        for b in s.reliability
    )
    disagreements = "".join(
        '<li><a href="{link}">{title}</a> · voted <b>{actual}</b>, Steward said <b>{rec}</b> '
        "({conf:.0%}) · {reason}{vote_reason}</li>".format(
            link=escape(c.link or "#"),
            title=escape(c.title[:120]),
            actual=c.actual,
            rec=c.recommendation,
            conf=c.confidence,
            reason=escape(c.reason[:400]),
            vote_reason=f" · their reason: {escape(c.vote_reason[:300])}" if c.vote_reason else "",
        )
        for c in report.disagreements
    )
    flips = (
        f"<p>Repeated {report.repeat}x: the recommendation flipped on "
        f"{_pct(report.flip_rate)} of proposals.</p>"
        if report.repeat > 1
        else ""
    )
    scope = f" in {escape(report.space)}" if report.space else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Steward backtest: {escape(report.voter)}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ddd;padding:.3rem .6rem;
text-align:right}}th:first-child{{text-align:left}}.charts{{display:flex;gap:2rem;flex-wrap:wrap}}
li{{margin:.4rem 0}}small{{color:#666}}
</style></head><body>
<h1>Backtest: {escape(report.voter)}{scope}</h1>
<p><small>analyst {escape(ident.analyst)} · prompt {ident.prompt_hash[:12]} · policy
{escape(ident.policy_id)} ({ident.policy_hash[:12]}) · {report.n} proposals, time-ordered,
each assessed with only what was known before it opened · {report.skipped} vote(s) skipped ·
{report.created:%Y-%m-%d %H:%M} UTC</small></p>
<table id="summary"><tr><th></th><th>n</th><th>coverage</th><th>agreement</th><th>κ</th>
<th>AGAINST recall</th><th>AGAINST precision</th><th>Brier</th></tr>{rows}</table>
{flips}
<div class="charts"><figure>{reliability_svg(s)}<figcaption>Reliability: confidence vs
agreement per band</figcaption></figure><figure>{confusion_svg(s)}<figcaption>Rows: the
voter's vote; columns: Steward's recommendation</figcaption></figure></div>
<table id="bands"><tr><th>confidence</th><th>n</th><th>mean confidence</th><th>agreement</th>
</tr>{bands}</table>
<h2>Disagreements ({len(report.disagreements)})</h2><ol>{disagreements}</ol>
</body></html>
"""
