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
    analysis = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis.md")
    if os.path.exists(analysis):
        with open(analysis) as f:
            lines += ["", f.read()]
    with open(path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    with open(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "target", "bench", "results.json")) as f:
        write(json.load(f), sys.argv[2] if len(sys.argv) > 2 else "BENCHMARKS.md")
