"""The analysis benchmark's printed report (the figures themselves are in the JSON)."""

from __future__ import annotations

from analysis_common import pct
from bench_common import (
    Json,
    figure_table,
)
from rich.console import Console


# ---- report ---------------------------------------------------------------------
def _trio(st: Json, unit: str) -> str:
    return f"{st[f'p50_{unit}']} / {st[f'p95_{unit}']} / {st[f'mean_{unit}']} {unit}"


def render_analysis(console: Console, r: Json) -> None:
    a = r["analysis"]
    cached = a["cached"]
    rows = [
        ("per proposal p50 / p95 / mean", _trio(a["per_proposal"], "s")),
        ("total (CPU/wall)", f"{a['total_s']} s ({a['cpu_over_wall']})"),
        ("texts embedded (per proposal)", f"{a['texts_embedded']} ({a['texts_per_proposal']})"),
        ("embedding throughput", f"{a['embedding_texts_per_s']} texts/s"),
    ]
    for stage, st in a["stages"].items():
        mean = f"mean {st['mean_ms']} ms  " if "mean_ms" in st else ""
        rows.append((f"  {stage}", f"{mean}{pct(st['share'])}"))
    rows += [
        ("cached re-run p50 / p95 / mean", _trio(cached["per_proposal"], "ms")),
        ("  statuses, texts embedded", f"{cached['statuses']}, {cached['texts_embedded']}"),
        (
            "model load + first embed (excluded)",
            f"{r['warm_up']['model_load_and_first_embed_s']} s",
        ),
        ("load avg before -> after", f"{a['loadavg_before']} -> {a['loadavg_after']}"),
        ("diag: embedding texts/s by threads", str(r["embedding_threads"]["texts_per_s"])),
    ]
    console.print(
        figure_table(f"1. Offline analysis of {r['records']['analysed']} ENS proposals", rows)
    )


def render_digest(console: Console, d: Json) -> None:
    rows = [
        (f"{step} (n={st['n']})", f"p50 {st['p50_ms']} ms  p95 {st['p95_ms']} ms")
        for step, st in d["steps"].items()
    ]
    rows += [
        ("sections new / closing / ended", " / ".join(map(str, d["sections"].values()))),
        ("chars md / html / json", " / ".join(f"{n:,}" for n in d["chars"].values())),
        ("Discord messages (longest)", f"{d['discord_messages']} ({d['longest_message']})"),
        ("Jinja compile in one md+html render", f"{d['jinja_compile_ms_md_html']} ms"),
    ]
    console.print(figure_table(f"2. Digest of {d['proposals']} analysed proposals", rows))


def _quality_rows(q: Json) -> list[tuple[str, str]]:
    f, e, o = q["fact_retention"], q["evidence"], q["outcome"]
    ens, dao, h = (q["injection"][k] for k in ("ens", "dao_corpus", "hostile"))
    failures = q["hard_rules"]
    return [
        ("a. facts in bodies", str(f["found_in_bodies"])),
        ("   kept in summaries", ", ".join(f"{k} {pct(v)}" for k, v in f["share_kept"].items())),
        ("   body amounts quotable at all", pct(f["share_amounts_quotable"])),
        (
            "   summaries keeping >= 1 amount",
            f"{f['of_which_summary_keeps_one']}/{f['proposals_with_an_amount']}",
        ),
        ("b. relevant findings", str(e["relevant_findings"])),
        ("   verbatim / dropped", f"{pct(e['share_verbatim'])} / {e['dropped_findings']}"),
        *((f"   relevant: {k}", pct(v)) for k, v in e["principle_relevance_rate"].items()),
        ("   within 0.05 of threshold", pct(e["share_within_0.05_of_threshold"])),
        ("   quote shared by 2+ principles", pct(e["quotes_shared_by_2plus_principles"])),
        ("   finding quotes by defect", str(q["quote_defects"]["finding_quotes"])),
        (
            "   candidate sentences defective",
            pct(q["quote_defects"]["share_candidates_defective"]),
        ),
        *(
            (f"c. {r} vs passed/rejected/other", str(list(c.values())))
            for r, c in o["confusion"].items()
        ),
        (
            "   agreement vs always-FOR",
            f"{pct(o['agreement_on_decided'])} vs {pct(o['always_for_baseline'])}",
        ),
        ("   escalated", pct(o["share_escalated"])),
        (
            "   hard-rule fails (on passed)",
            f"{len(failures['failures'])} ({failures['failures_on_proposals_that_passed']})",
        ),
        ("d. injection hits ENS", f"{ens['with_findings']}/{ens['records']}"),
        ("   injection hits DAO corpus", f"{dao['with_findings']}/{dao['records']} {dao['kinds']}"),
        ("   ... capping at ABSTAIN", f"{dao['capping_at_abstain']}/{dao['records']}"),
        ("   hostile detected", f"{h['detected']}/{h['attacks']} {h['recall_by_tier']}"),
        ("   ... with the expected kind", pct(h["expected_kind_recall"])),
        ("   ... capped at ABSTAIN", f"{h['capped']}/{h['attacks']}"),
        ("   detected, not capped", ", ".join(h["detected_not_capped"]) or "none"),
        ("   missed", ", ".join(h["missed"]) or "none"),
        ("   hard-negative false alarms", ", ".join(h["hard_negative_false_alarms"]) or "none"),
        ("e. categories", str(q["categories"]["counts"])),
    ]


def render_quality(console: Console, q: Json) -> None:
    console.print(figure_table("3. Quality of the offline analyst on ENS", _quality_rows(q)))


def render_report(console: Console, r: Json) -> None:
    """The human-readable report; the JSON file holds everything."""
    render_analysis(console, r)
    render_digest(console, r["digest"])
    render_quality(console, r["quality"])
    for note in r["weaknesses"]:
        console.print(f"- {note}", highlight=False)
    m = r["machine"]
    console.print(
        f"machine: {m['cpu_count']} CPUs, Python {m['python']}, torch {m['torch']} "
        f"({m['torch_threads']} threads); {m['date']}; total {r['total_seconds']} s "
        f"{r['phases_s']}",
        highlight=False,
    )
