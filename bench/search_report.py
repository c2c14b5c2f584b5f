"""Report tables for the search-scale and zero-cost-embedder figures (both benches print them)."""

from __future__ import annotations

from bench_common import Json, figure_table
from rich.console import Console
from search_scale import NOISE_SIGMA


def _p50_p95(stats: Json) -> str:
    return f"p50 {stats['p50_ms']} ms  p95 {stats['p95_ms']} ms"


def render_standin(console: Console, st: Json) -> None:
    ceiling = st["chroma_ceiling"]
    rows = []
    for name, what in (
        ("legacy", "delete + add + commit per proposal, one collection"),
        ("before", "texts and metadata in Chroma: main + lean per-space graph"),
        ("after", "bare vectors in Chroma, texts in the record store"),
    ):
        runs = st[name].get("chunks_per_s_runs")
        spread = f" (runs: {', '.join(str(r) for r in runs)})" if runs else ""
        rows.append(
            (
                f"{name}: {what}",
                f"{st[name]['chunks']} chunks in {st[name]['seconds']} s  ->  "
                f"[bold]{st[name]['chunks_per_s']}[/] chunks/s{spread}",
            )
        )
    rows += [
        ("after / before", str(st["after_over_before"])),
        ("Chroma add alone: texts + metadata", f"{ceiling['texts_and_metadata_chunks_per_s']}/s"),
        ("Chroma add alone: metadata, no texts", f"{ceiling['metadata_no_texts_chunks_per_s']}/s"),
        ("Chroma add alone: vector + uid", f"{ceiling['vector_and_uid_chunks_per_s']}/s"),
    ]
    if "bare_vector_chunks_per_s" in ceiling:
        rows.append(("Chroma add alone: bare vector", f"{ceiling['bare_vector_chunks_per_s']}/s"))
    rows.append(
        ("Python thread's share during add", str(ceiling["python_thread_share_during_add"]))
    )
    title = "Index pipeline with a zero-cost embedder (" + ", ".join(st["archives"]) + ")"
    console.print(figure_table(title, rows))


def render_search(console: Console, s: Json) -> None:
    si, same = s["index"], s["results_unchanged"]
    built = [n for n in ("single", "before", "after") if f"disk_{n}_mb" in si]
    rows = [
        (
            f"insert, {' / '.join(built)}",
            " / ".join(str(si[f"insert_{n}_chunks_per_s"]) for n in built) + " chunks/s",
        ),
        (f"disk, {' / '.join(built)}", " / ".join(str(si[f"disk_{n}_mb"]) for n in built) + " MB"),
        ("build time (all layouts)", f"{si['build_all_s']} s"),
    ]
    n = same["queries_compared"]
    for key, value in same.items():
        if key.startswith("identical_top5_"):
            rows.append((f"top-5 identical, {key[15:].replace('_', ' ')}", f"{value} of {n}"))
    for name, st in s["index_query"].items():
        rows.append((f"index.query, {name} (n={st['n']})", _p50_p95(st)))
    for name, st in s["end_to_end"].items():
        rows.append((f"{name} (n={st['n']})", _p50_p95(st)))
    caption = (
        "Vectors are SYNTHETIC: real MiniLM embeddings of the ENS chunks plus seeded Gaussian "
        f"noise (sigma {NOISE_SIGMA}, mean cosine {si['mean_cosine_to_real']}), over "
        f"{si['spaces']} spaces. single: one collection, `where` on space; before: texts "
        "and metadata in a main collection + lean per-space graphs; after: bare vectors in "
        "the same graphs, texts in the record store. End-to-end rows include the query "
        "embedding."
    )
    title = f"Search at {si['chunks']:,} chunks, limit {s['limit']}"
    console.print(figure_table(title, rows, caption=caption))
