"""Benchmark of `check --schema` (issue 16): a member of 100 tables and 300 revisions on SQLite,
against `up` of the same revisions on a fresh file. Writes benches/sections/schema.md, which
BENCHMARKS.md includes (benches/report.py), and regenerates BENCHMARKS.md.

    python3 benches/schema.py [--runs N]

Needs hyperfine (Debian package). `check --schema` migrates a scratch database (in memory for
SQLite) to the heads, reads its catalog, parses schema.rs and compares; the target is that it
costs at most 10% more than the `up` a user runs anyway.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
WORK = os.path.join(REPO, "target", "bench-schema")
REVISE = os.path.join(REPO, "target", "release", "cargo-revise")
SECTION = os.path.join(HERE, "sections", "schema.md")

TABLES = 100
REVISIONS = 300


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def revision(index, parent):
    """Revision `index`: the first 100 create a table each; the rest add a column or an
    index to one of them."""
    rid = f"r{index:04d}"
    if index < TABLES:
        up = (f"CREATE TABLE t{index:03d} (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, "
              f"created_at TIMESTAMP, score INTEGER DEFAULT 0);")
        down = f"DROP TABLE t{index:03d};"
    elif index % 2 == 0:
        table = f"t{index % TABLES:03d}"
        up = f"ALTER TABLE {table} ADD COLUMN c{index:04d} TEXT;"
        down = f"ALTER TABLE {table} DROP COLUMN c{index:04d};"
    else:
        table = f"t{index % TABLES:03d}"
        up = f"CREATE INDEX i{index:04d} ON {table} (name, score);"
        down = f"DROP INDEX i{index:04d};"
    text = (f"-- Revision {index}\n--\n-- Revision ID: {rid}\n-- Revises: {parent or ''}\n"
            f"-- Create Date: 2026-12-01 00:00:00.{index:06d}\n\n-- revise:up\n{up}\n\n-- revise:down\n{down}\n")
    return rid, text


def generate():
    shutil.rmtree(WORK, ignore_errors=True)
    member = os.path.join(WORK, "app")
    os.makedirs(os.path.join(member, "migrations"))
    os.makedirs(os.path.join(member, "src"))
    with open(os.path.join(WORK, "Cargo.toml"), "w") as f:
        f.write('[workspace]\nresolver = "2"\nmembers = ["app"]\n')
    with open(os.path.join(member, "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n')
    open(os.path.join(member, "src", "lib.rs"), "w").close()
    with open(os.path.join(WORK, ".env"), "w") as f:
        f.write("DATABASE_URL=sqlite://bench.db\n")
    parent = None
    for index in range(REVISIONS):
        rid, text = revision(index, parent)
        with open(os.path.join(member, "migrations", f"{rid}.sql"), "w") as f:
            f.write(text)
        parent = rid
    sh(f"{REVISE} schema -p app --write", cwd=WORK, stdout=subprocess.DEVNULL)


def hyperfine(commands, runs):
    out = os.path.join(WORK, "hyperfine.json")
    args = ["hyperfine", "-N", "--warmup", "2", "--runs", str(runs), "--export-json", out]
    for name, command, prepare in commands:
        if prepare:
            args += ["--prepare", prepare]
        args += ["-n", name, command]
    # --prepare applies in order to the commands that follow it; give each its own.
    subprocess.run(args, cwd=WORK, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return {r["command"]: r for r in json.load(f)["results"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    sh(f"cd {REPO} && cargo build --release -q -p cargo-revise")
    generate()
    up = hyperfine([("up", f"{REVISE} -q up", "rm -f bench.db")], args.runs)["up"]
    rest = hyperfine([
        ("up in memory", f"{REVISE} -q --database-url sqlite::memory: up", None),
        ("check --schema", f"{REVISE} check --schema", None),
        ("schema", f"{REVISE} schema -p app", None),
    ], args.runs)
    check = rest["check --schema"]
    schema = rest["schema"]
    memory = rest["up in memory"]
    ratio = check["median"] / up["median"]
    # What the comparison adds to migrating the same revisions without writing to disk.
    added = (check["median"] - memory["median"]) / up["median"]
    version = subprocess.run(["hyperfine", "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        "## The schema: `check --schema` against `up` (issue 16)",
        "",
        f"One member of {TABLES} tables and {REVISIONS} revisions (tables created, then columns and "
        "indexes added) on SQLite, its schema.rs written by `schema --write`. `up` runs on a fresh "
        "file each time; `check --schema` migrates a scratch database (in memory) to the heads, "
        "records which revision made each table, reads the catalog, parses schema.rs and compares. "
        f"Medians of {args.runs} runs ({version}), release build, `python3 benches/schema.py`.",
        "",
        "| command | median | min | max |",
        "|---|---|---|---|",
    ]
    for name, r in (("`up` (fresh file)", up), ("`up` on `sqlite::memory:`", memory),
                    ("`check --schema`", check), ("`schema` (print)", schema)):
        lines.append(f"| {name} | {r['median'] * 1000:.1f} ms | {r['min'] * 1000:.1f} ms | {r['max'] * 1000:.1f} ms |")
    lines += [
        "",
        f"`check --schema` takes {ratio:.2f}x the time of `up` (target: at most 1.10x): "
        + ("met." if ratio <= 1.10 else "**missed**.")
        + " Its own migration runs in memory; against `up` in memory, the catalog, the parse and "
        f"the comparison add {added * 100:.1f}% of the file `up`'s time.",
        "",
    ]
    os.makedirs(os.path.dirname(SECTION), exist_ok=True)
    with open(SECTION, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    sys.path.insert(0, HERE)
    import report  # noqa: E402
    with open(os.path.join(HERE, "results.json")) as f:
        report.write(json.load(f), os.path.join(REPO, "BENCHMARKS.md"))


if __name__ == "__main__":
    main()
