"""Benchmark of the run log (issue 17): what writing the log costs `up`, and `check` with a
log of 10,000 applied revisions. Writes benches/sections/run_log.md, which BENCHMARKS.md
includes (benches/report.py), and regenerates BENCHMARKS.md.

    python3 benches/run_log.py [--pairs N] [--no-postgres]

1. `up` of 1,000 revisions (one chain, a table each: benches/generate.py's `linear` shape) on
   a fresh database, with the log (the default) and without it (`log_table = false`), the two
   interleaved A, B, A, B, ... in the same run so that the machine's noise falls on both
   alike; SQLite files live on /dev/shm (a disk's fsync would drown the difference), the
   PostgreSQL server is the machine's. Target: with the log within 5% of without.
2. `check` at 10,000 applied revisions with every one in the log: hyperfine, against the
   same `check` on the same database migrated without a log. Target: under 50 ms.

Needs hyperfine and psql (Debian packages).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import generate  # noqa: E402

REVISE = os.path.join(REPO, "target", "release", "cargo-revise")
SECTION = os.path.join(HERE, "sections", "run_log.md")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SHM = "/dev/shm" if os.path.isdir("/dev/shm") else None


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def workspace(root, n, log):
    """The `linear` workspace of `n` revisions under root/ws, with `log_table = false` when
    `log` is false."""
    shutil.rmtree(root, ignore_errors=True)
    revisions = generate.graph(n, "linear")
    generate.cargo_workspace(root, revisions, 1)
    if not log:
        with open(os.path.join(root, "ws", "Cargo.toml"), "a") as f:
            f.write("\n[workspace.metadata.revise]\nlog_table = false\n")
    return os.path.join(root, "ws")


def fresh(db, url):
    if db == "sqlite":
        path = url[len("sqlite://"):]
        for suffix in ("", "-journal"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        name = url.rsplit("/", 1)[1]
        sh(f"psql -q -X {PG_ADMIN} -c 'DROP DATABASE IF EXISTS {name}' -c 'CREATE DATABASE {name}'",
           stdout=subprocess.DEVNULL)


def timed_up(ws, url):
    env = dict(os.environ, DATABASE_URL=url, REVISE_NO_CACHE="1")
    start = time.perf_counter()
    subprocess.run([REVISE, "-q", "up"], cwd=ws, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def up_pairs(db, pairs, base):
    """Interleaved runs of `up` with and without the log; the times of each, in seconds."""
    with_log = workspace(os.path.join(base, "with"), 1000, True)
    without = workspace(os.path.join(base, "without"), 1000, False)
    if db == "sqlite":
        url = f"sqlite://{os.path.join(SHM or base, 'revise-bench-log.db')}"
    else:
        url = "postgresql://postgres@127.0.0.1:5432/revise_bench_log"
    times = {"log": [], "no log": []}
    # One warm-up of each: the first run pays for cold caches.
    for ws in (with_log, without):
        fresh(db, url)
        timed_up(ws, url)
    for i in range(pairs):
        # Alternate which goes first, so neither always follows the other.
        order = [("log", with_log), ("no log", without)]
        if i % 2:
            order.reverse()
        for name, ws in order:
            fresh(db, url)
            times[name].append(timed_up(ws, url))
    fresh(db, url)
    if db == "postgres":
        sh(f"psql -q -X {PG_ADMIN} -c 'DROP DATABASE IF EXISTS revise_bench_log'", stdout=subprocess.DEVNULL)
    return times


def check_at_10000(base, runs):
    """hyperfine of `check` at 10,000 applied revisions, with every step in the log and with
    no log; SQLite on /dev/shm."""
    results = {}
    for name, log in (("log", True), ("no log", False)):
        ws = workspace(os.path.join(base, f"check-{name.replace(' ', '-')}"), 10000, log)
        url = f"sqlite://{os.path.join(SHM or base, f'revise-bench-check-{log}.db')}"
        fresh("sqlite", url)
        env = dict(os.environ, DATABASE_URL=url)
        subprocess.run([REVISE, "-q", "up"], cwd=ws, env=env, check=True, stdout=subprocess.DEVNULL)
        # The header cache settles two seconds after the files were written.
        time.sleep(2.5)
        out = os.path.join(base, f"hyperfine-{log}.json")
        subprocess.run(["hyperfine", "-N", "--warmup", "3", "--runs", str(runs), "--export-json", out,
                        f"{REVISE} check"], cwd=ws, env=env, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            results[name] = json.load(f)["results"][0]
        if name == "log":
            rows = subprocess.run([REVISE, "log", "--format", "json"], cwd=ws, env=env, check=True,
                                  capture_output=True, text=True).stdout
            results["log rows"] = len(json.loads(rows)["entries"])
        fresh("sqlite", url)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--check-runs", type=int, default=30)
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    args = parser.parse_args()
    sh(f"cd {REPO} && cargo build --release -q -p cargo-revise")
    base = os.path.join(REPO, "target", "bench-run-log")
    dbs = ["sqlite"] + (["postgres"] if args.postgres else [])
    ups = {db: up_pairs(db, args.pairs, base) for db in dbs}
    check = check_at_10000(base, args.check_runs)
    version = subprocess.run(["hyperfine", "--version"], capture_output=True, text=True).stdout.strip()

    lines = [
        "## The run log: what it costs `up`, and `check` at 10,000 revisions (issue 17)",
        "",
        f"`up` of 1,000 revisions (one chain, a table each) on a fresh database, with the run log "
        f"and with `log_table = false`, interleaved in the same run ({args.pairs} of each after one "
        "warm-up of each, alternating which goes first); SQLite on a file in /dev/shm, so that a "
        "disk's fsync does not drown the difference; PostgreSQL 15 on this machine. Medians, "
        "release build, `python3 benches/run_log.py`.",
        "",
        "| database | `up` with the log | without | difference | target (within 5%) |",
        "|---|---|---|---|---|",
    ]
    for db, times in ups.items():
        a = statistics.median(times["log"])
        b = statistics.median(times["no log"])
        diff = (a - b) / b
        lines.append(
            f"| {db} | {a * 1000:.0f} ms (min {min(times['log']) * 1000:.0f}) | "
            f"{b * 1000:.0f} ms (min {min(times['no log']) * 1000:.0f}) | {diff * 100:+.1f}% | "
            + ("met" if diff <= 0.05 else "**missed**") + " |")
    c = check["log"]
    n = check["no log"]
    lines += [
        "",
        f"`check` at 10,000 applied revisions on SQLite ({check['log rows']:,} rows in the log: it "
        "reads every revision's newest checksum and the unfinished steps, and compares each "
        f"applied file's checksum from the header cache), {args.check_runs} runs ({version}):",
        "",
        "| `check` | median | min | max |",
        "|---|---|---|---|",
        f"| with the log | {c['median'] * 1000:.1f} ms | {c['min'] * 1000:.1f} ms | {c['max'] * 1000:.1f} ms |",
        f"| database without a log | {n['median'] * 1000:.1f} ms | {n['min'] * 1000:.1f} ms | {n['max'] * 1000:.1f} ms |",
        "",
        f"Target under 50 ms: " + ("met" if c["median"] < 0.050 else "**missed**") + ".",
        "",
    ]
    os.makedirs(os.path.dirname(SECTION), exist_ok=True)
    with open(SECTION, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    import report  # noqa: E402
    with open(os.path.join(HERE, "results.json")) as f:
        report.write(json.load(f), os.path.join(REPO, "BENCHMARKS.md"))


if __name__ == "__main__":
    main()
