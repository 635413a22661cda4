"""Renders target/bench/results.json as BENCHMARKS.md."""

import json
import os
import sys

OPS = ["heads", "history", "current", "check", "up"]


def ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:,.1f}"


def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:,.1f}x"


def get(results, key, field="median"):
    entry = results.get(key)
    return None if entry is None else entry[field]


IN_PROCESS = [
    ("parse_with_sql", "parse every file, SQL kept (`up`, embedding)"),
    ("parse_headers", "parse every file, headers only (read commands)"),
    ("build_graph", "build and validate the graph"),
    ("plan_from_empty", "plan `up` on an empty database"),
    ("plan_up_to_date", "plan `up` on an up-to-date database (`check`)"),
    ("plan_down_to_base", "plan `down base` from the heads"),
]


def in_process_table(figures):
    """The divan bench's medians: one row per phase, one column per revision set."""
    cases = [f"{shape}-{size}" for shape in ("linear", "members") for size in (100, 1000, 10000)]
    lines = ["## In process: parsing, graph building, planning", "",
             "Medians of `cargo bench -p revise-runtime --bench in_process` (divan; the same revision",
             "sets as above, built in memory, so no disk, process start or database), in ms. The",
             "growth columns are 10,000 against 1,000 revisions.", "",
             "| phase | " + " | ".join(cases) + " | growth linear | growth members |",
             "|---|" + "---:|" * (len(cases) + 2)]
    for bench, label in IN_PROCESS:
        row = figures.get(bench, {})
        cells = [f"{row[c] * 1000:,.3f}" if c in row else "-" for c in cases]
        growth = [ratio(row.get(f"{shape}-10000"), row.get(f"{shape}-1000")) for shape in ("linear", "members")]
        lines.append(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(growth) + " |")
    return lines + [""]


def write(data, path):
    lines = [
        "# Benchmarks",
        "",
        "Written by `python3 benches/run.py` (see its header for options); the raw figures of the",
        "last run are in `benches/results.json`. Medians of hyperfine runs of the release build;",
        "peak memory is the maximum resident set of one run (`/usr/bin/time -f %M`). Revision sets:",
        "`linear` is one chain in one member; `members` is four members with a cross-member",
        "`Depends On` every tenth revision (`benches/generate.py`). The raw-SQL limit is `sqlite3` /",
        "`psql` running, per revision, BEGIN, the SQL, the version-table change and COMMIT.",
        "",
        f"Machine: 2 cores, run on {data['date']}.",
        "",
    ]
    for run in data["runs"]:
        r = run["results"]
        lines += [f"## {run['db']}, {run['shape']}, {run['size']:,} revisions", "",
                  "| command | cargo revise ms | peak MB | Alembic ms | Alembic / revise | diesel_cli ms | raw limit ms | revise / limit |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for op in OPS:
            revise = get(r, f"revise {op}")
            alembic = get(r, f"alembic {op}")
            diesel_key = {"up": "diesel up", "heads": "diesel list", "current": "diesel pending"}.get(op)
            diesel = get(r, diesel_key) if diesel_key else None
            limit = get(r, "raw limit up") if op == "up" else None
            lines.append(f"| {op} | {ms(revise)} | {get(r, f'revise {op}', 'peak_mb') or 0:.1f} | {ms(alembic)} | "
                         f"{ratio(alembic, revise)} | {ms(diesel)} | {ms(limit)} | {ratio(revise, limit)} |")
        lines.append("")
    lines += ["## Growth from 1,000 to 10,000 revisions (cargo revise)", "",
              "| database | shape | " + " | ".join(OPS) + " |", "|---|---|" + "---:|" * len(OPS)]
    index = {(r["db"], r["shape"], r["size"]): r["results"] for r in data["runs"]}
    for (db, shape, size), r in index.items():
        if size != 10000 or (db, shape, 1000) not in index:
            continue
        small = index[(db, shape, 1000)]
        lines.append(f"| {db} | {shape} | " + " | ".join(ratio(get(r, f"revise {op}"), get(small, f"revise {op}")) for op in OPS) + " |")
    lines.append("")
    if "embedding" in data:
        e = data["embedding"]
        lines += ["## Embedding 1,000 revisions with build.rs", "",
                  f"Warm rebuild of a small application after editing one of its 1,000 embedded revisions: "
                  f"{e['revision_rebuild']:.2f} s, against {e['main_rs_rebuild']:.2f} s after editing `main.rs`; "
                  f"the embedding adds {e['added']:.2f} s (best of three each).", ""]
    if "in_process" in data:
        lines += in_process_table(data["in_process"])
    # Benchmarks of their own (benches/schema.py, ...) write a section each into sections/.
    sections = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sections")
    if os.path.isdir(sections):
        for name in sorted(os.listdir(sections)):
            if name.endswith(".md"):
                with open(os.path.join(sections, name)) as f:
                    lines += [f.read()]
    analysis = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis.md")
    if os.path.exists(analysis):
        with open(analysis) as f:
            lines += ["", f.read()]
    with open(path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    with open(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "target", "bench", "results.json")) as f:
        write(json.load(f), sys.argv[2] if len(sys.argv) > 2 else "BENCHMARKS.md")
