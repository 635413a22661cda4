"""Benchmarks cargo revise against Alembic, diesel_cli and the raw-SQL limit; writes BENCHMARKS.md.

    python3 benches/run.py                      # everything (about 30 minutes)
    python3 benches/run.py --sizes 100,1000     # quicker
    python3 benches/run.py --no-alembic --no-diesel --no-postgres   # or --no-sqlite
    python3 benches/run.py --sizes 10000 --no-alembic --no-diesel --no-up   # read commands only
    python3 benches/run.py --only-in-process    # parsing, graph building, planning (a minute)

The in-process figures come from the divan bench `revise-runtime/benches/in_process.rs`
(`cargo bench -p revise-runtime --bench in_process` prints them directly).

Needs hyperfine and sqlite3/psql (Debian packages); installs Alembic into target/bench-venv and
diesel_cli into target/bench-tools on first use. Results: target/bench/results.json and
BENCHMARKS.md (and a copy in benches/results.json, which a partial run on a fresh clone starts
from). Medians of hyperfine runs; peak memory from /usr/bin/time (maximum resident set).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import generate  # noqa: E402

WORK = os.path.join(REPO, "target", "bench")
REVISE = os.path.join(REPO, "target", "release", "cargo-revise")
VENV = os.path.join(REPO, "target", "bench-venv")
DIESEL = os.path.join(REPO, "target", "bench-tools", "bin", "diesel")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def setup(args):
    sh(f"cd {REPO} && cargo build --release -q -p cargo-revise")
    if args.alembic and not os.path.exists(f"{VENV}/bin/alembic"):
        sh(f"python3 -m venv {VENV} && {VENV}/bin/pip install -q 'alembic==1.20.1' psycopg2-binary")
    if args.diesel and not os.path.exists(DIESEL):
        sh(f"cargo install -q diesel_cli --no-default-features --features sqlite-bundled --root {REPO}/target/bench-tools")


def once(name, command, cwd, env, prepare=None):
    """One timed run with its peak memory, for commands too slow to repeat (Alembic at
    10,000 revisions takes minutes)."""
    if prepare:
        subprocess.run(prepare, shell=True, cwd=cwd, env=env, check=True)
    start = time.time()
    timed = subprocess.run(f"/usr/bin/time -f %M {command}", shell=True, cwd=cwd, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.time() - start
    kb = int(timed.stderr.strip().splitlines()[-1])
    print(f"  {name}: {elapsed * 1000:.1f} ms (one run), {kb / 1024:.1f} MB", flush=True)
    return {"median": elapsed, "mean": elapsed, "runs": 1, "peak_mb": kb / 1024}


def hyperfine(name, command, cwd, env, runs, prepare=None):
    """Median seconds of `command` (hyperfine), and peak memory in MB of one more run."""
    if runs == 1:
        return once(name, command, cwd, env, prepare)
    out = os.path.join(WORK, "hf.json")
    cmd = ["hyperfine", "--runs", str(runs), "--export-json", out, "--style", "none"]
    cmd += ["--shell", "sh"] if "<" in command else ["-N"]
    if prepare:
        cmd += ["--prepare", prepare]
    else:
        cmd += ["--warmup", "1"]
    cmd.append(command)
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        result = json.load(f)["results"][0]
    if prepare:
        subprocess.run(prepare, shell=True, cwd=cwd, env=env, check=True)
    timed = subprocess.run(f"/usr/bin/time -f %M {command}", shell=True, cwd=cwd, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    kb = int(timed.stderr.strip().splitlines()[-1])
    print(f"  {name}: {result['median'] * 1000:.1f} ms, {kb / 1024:.1f} MB", flush=True)
    return {"median": result["median"], "mean": result["mean"], "runs": len(result["times"]), "peak_mb": kb / 1024}


def measure(args, size, shape, db):
    root = os.path.join(WORK, f"{shape}-{size}")
    if not os.path.exists(os.path.join(root, "ws")):
        generate.generate(root, size, shape)
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if db == "sqlite":
        path = os.path.join(root, "bench.db")
        url, alembic_url = f"sqlite://{path}", f"sqlite:///{path}"
        fresh = f"rm -f {path}"
        raw = f"sqlite3 {path} < {root}/raw-sqlite.sql"
    else:
        name = f"revise_bench_{shape}_{size}"
        url = alembic_url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        alembic_url = url.replace("postgresql://", "postgresql+psycopg2://")
        fresh = (f"psql -q -X {PG_ADMIN} -c 'DROP DATABASE IF EXISTS {name}' -c 'CREATE DATABASE {name}'")
        raw = f"psql -q -X {url} -f {root}/raw-postgres.sql"
    env["DATABASE_URL"] = url
    env["BENCH_DB_URL"] = alembic_url
    ws, al = os.path.join(root, "ws"), os.path.join(root, "alembic")
    reads = 10 if size < 10000 else 5
    ups = 5 if size < 10000 else 3
    slow = 3 if size < 10000 else 1
    results = {}
    print(f"{db} {shape} {size}", flush=True)
    if args.up:
        results["revise up"] = hyperfine("revise up", f"{REVISE} up -q", ws, env, ups, prepare=fresh)
        if args.limit:
            results["raw limit up"] = hyperfine("raw limit up", raw, root, env, ups, prepare=fresh)
        sh(fresh, env=env)
    # With --no-up the database of the last run is reused (this brings it up to date if not).
    sh(f"{REVISE} up -q", cwd=ws, env=env)
    for op in ["heads", "history", "current", "check"]:
        results[f"revise {op}"] = hyperfine(f"revise {op}", f"{REVISE} {op}", ws, env, reads)
    alembic = f"{VENV}/bin/alembic"
    if args.alembic and (size <= args.alembic_max or (shape == "linear" and db == "sqlite")):
        for op in ["heads", "history", "current"]:
            results[f"alembic {op}"] = hyperfine(f"alembic {op}", f"{alembic} {op}", al, env, slow)
        results["alembic up"] = hyperfine("alembic up", f"{alembic} upgrade heads", al, env, slow, prepare=fresh)
    if args.diesel and db == "sqlite" and shape == "linear":
        dpath = os.path.join(root, "diesel.db")
        denv = dict(env, DATABASE_URL=dpath)
        mig = f"--migration-dir {root}/diesel/migrations"
        results["diesel up"] = hyperfine("diesel up", f"{DIESEL} migration run {mig}", root, denv, ups, prepare=f"rm -f {dpath}")
        sh(f"rm -f {dpath} && {DIESEL} migration run {mig} > /dev/null", cwd=root, env=denv)
        results["diesel list"] = hyperfine("diesel list", f"{DIESEL} migration list {mig}", root, denv, reads)
        results["diesel pending"] = hyperfine("diesel pending", f"{DIESEL} migration pending {mig}", root, denv, reads)
    return results


def embedding(args):
    """Extra seconds a warm rebuild takes when one of 1,000 embedded revisions changed,
    compared with a rebuild after an edit of main.rs."""
    root = os.path.join(WORK, "embed")
    shutil.rmtree(root, ignore_errors=True)
    generate.generate(root, 1000, "linear")
    ws = os.path.join(root, "ws")
    manifest = open(os.path.join(ws, "Cargo.toml")).read().replace('members = ["m0"]', 'members = ["m0", "app"]')
    open(os.path.join(ws, "Cargo.toml"), "w").write(manifest)
    runtime = os.path.join(REPO, "revise-runtime")
    os.makedirs(os.path.join(ws, "app", "src"))
    open(os.path.join(ws, "app", "Cargo.toml"), "w").write(
        f'[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nrevise-runtime = {{ path = "{runtime}" }}\n\n'
        f'[build-dependencies]\nrevise-runtime = {{ path = "{runtime}", features = ["build"] }}\n')
    open(os.path.join(ws, "app", "build.rs"), "w").write("fn main() { revise_runtime::build::embed_workspace().unwrap(); }\n")
    main = os.path.join(ws, "app", "src", "main.rs")
    open(main, "w").write("revise_runtime::include_revisions!();\nfn main() { println!(\"{}\", REVISIONS.len()); }\n")
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(REPO, "target", "template-app"))
    sh("cargo build -q -p app", cwd=ws, env=env)
    revision = os.path.join(ws, "m0", "migrations", "r00500_step.sql")

    def rebuild(touch):
        best = None
        for _ in range(3):
            with open(touch, "a") as f:
                f.write("\n")
            start = time.time()
            sh("cargo build -q -p app", cwd=ws, env=env)
            elapsed = time.time() - start
            best = elapsed if best is None else min(best, elapsed)
        return best

    code = rebuild(main)
    revisions = rebuild(revision)
    print(f"  embedding: main.rs edit {code:.2f} s, revision edit {revisions:.2f} s", flush=True)
    return {"main_rs_rebuild": code, "revision_rebuild": revisions, "added": revisions - code}


IN_PROCESS_UNITS = {"ns": 1e-9, "µs": 1e-6, "ms": 1e-3, "s": 1.0}


def in_process():
    """Runs the divan bench and returns {bench: {case: median seconds}}, read from divan's
    table (columns: fastest, slowest, median, mean)."""
    out = subprocess.run(f"cd {REPO} && cargo bench -q -p revise-runtime --bench in_process",
                         shell=True, check=True, stdout=subprocess.PIPE, text=True).stdout
    print(out, flush=True)
    case = re.compile(r"[├╰]─ (\S+)\s+([\d.]+ \S+)\s+│ ([\d.]+ \S+)\s+│ ([\d.]+) (\S+)")
    group = re.compile(r"^[├╰]─ (\w+)\s+│")
    figures, bench = {}, None
    for line in out.splitlines():
        if m := group.match(line):
            bench = m.group(1)
            figures[bench] = {}
        elif (m := case.search(line)) and bench:
            figures[bench][m.group(1)] = float(m.group(4)) * IN_PROCESS_UNITS[m.group(5)]
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--shapes", default="linear,members")
    parser.add_argument("--no-alembic", dest="alembic", action="store_false")
    parser.add_argument("--alembic-max", type=int, default=1000,
                        help="largest size Alembic runs at, except the linear SQLite chain (always)")
    parser.add_argument("--no-diesel", dest="diesel", action="store_false")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false")
    parser.add_argument("--no-embedding", dest="embedding", action="store_false")
    parser.add_argument("--no-up", dest="up", action="store_false",
                        help="skip `up` and the raw-SQL scripts (keeps their previous figures)")
    parser.add_argument("--no-limit", dest="limit", action="store_false",
                        help="skip the raw-SQL scripts (keeps their previous figures)")
    parser.add_argument("--no-in-process", dest="in_process", action="store_false",
                        help="skip the divan bench of parsing, graph building and planning")
    parser.add_argument("--only-in-process", action="store_true",
                        help="run only the divan bench (keeps every other previous figure)")
    args = parser.parse_args()
    if args.only_in_process:
        args.sqlite = args.postgres = args.embedding = args.alembic = args.diesel = False
    os.makedirs(WORK, exist_ok=True)
    setup(args)
    # A partial run (fewer sizes, tools or databases) updates what it measured and keeps the
    # rest of the previous results.
    # On a fresh clone the previous results are the committed copy in benches/.
    path = os.path.join(WORK, "results.json")
    committed = os.path.join(HERE, "results.json")
    results = {"runs": []}
    for previous in (path, committed):
        if os.path.exists(previous):
            with open(previous) as f:
                results = json.load(f)
            break
    results.update({"machine": os.uname().nodename, "date": time.strftime("%Y-%m-%d")})
    dbs = (["sqlite"] if args.sqlite else []) + (["postgres"] if args.postgres else [])
    for db in dbs:
        for shape in args.shapes.split(","):
            for size in [int(s) for s in args.sizes.split(",")]:
                measured = measure(args, size, shape, db)
                old = next((r for r in results["runs"] if (r["db"], r["shape"], r["size"]) == (db, shape, size)), None)
                if old is None:
                    results["runs"].append({"db": db, "shape": shape, "size": size, "results": measured})
                else:
                    old["results"].update(measured)
    results["runs"].sort(key=lambda r: (r["db"] != "sqlite", r["shape"], r["size"]))
    if args.embedding:
        results["embedding"] = embedding(args)
    if args.in_process:
        results["in_process"] = in_process()
    for written in (path, committed):
        with open(written, "w") as f:
            json.dump(results, f, indent=1)
    import report
    report.write(results, os.path.join(REPO, "BENCHMARKS.md"))


if __name__ == "__main__":
    main()
