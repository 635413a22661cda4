"""Benchmark of the run log (issue 17): what writing the log costs `up`, and `check` with a
log of 10,000 applied revisions. Writes benches/sections/run_log.md, which BENCHMARKS.md
includes (benches/report.py), and regenerates BENCHMARKS.md.

    python3 benches/run_log.py [--pairs N] [--disk-pairs N] [--pg-pairs N] [--check-runs N]
                               [--no-postgres]

1. `up` of 1,000 revisions (one chain, a table each: benches/generate.py's `linear` shape) on
   a fresh database, with the log (the default) and without it (`log_table = false`), the two
   interleaved A, B, A, B, ... in the same run so that the machine's noise falls on both
   alike; SQLite on a file on the disk and on /dev/shm (no fsync: the CPU cost alone), the
   PostgreSQL server is the machine's. Besides the medians of each, the median of the pairs'
   ratios (each run against its neighbour, which shared its moment of the machine). Target:
   with the log within 5% of without.
2. `check` at 10,000 applied revisions with every one in the log: hyperfine, against the
   same `check` on the same database migrated without a log, and what SQLite alone takes to
   open that database and read its version table (the floor under any `check`). Target:
   under 50 ms.

Needs hyperfine and psql (Debian packages).
"""

import argparse
import json
import os
import resource
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
    if db.startswith("sqlite"):
        path = url[len("sqlite://"):]
        for suffix in ("", "-journal"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        name = url.rsplit("/", 1)[1]
        sh(f"psql -q -X {PG_ADMIN} -c 'DROP DATABASE IF EXISTS {name}' -c 'CREATE DATABASE {name}'",
           stdout=subprocess.DEVNULL)


def timed_up(ws, url):
    """Wall time and CPU time (user + system) of one `up`, in seconds."""
    env = dict(os.environ, DATABASE_URL=url, REVISE_NO_CACHE="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([REVISE, "-q", "up"], cwd=ws, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def up_pairs(db, pairs, base):
    """Interleaved runs of `up` with and without the log; (wall, cpu) of each, in seconds.
    `db`: sqlite (a file under target/, on disk), sqlite-shm (a file in /dev/shm), postgres."""
    with_log = workspace(os.path.join(base, "with"), 1000, True)
    without = workspace(os.path.join(base, "without"), 1000, False)
    if db == "sqlite":
        url = f"sqlite://{os.path.join(base, 'revise-bench-log.db')}"
    elif db == "sqlite-shm":
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


def pair_ratio(times, index):
    """Median over the pairs of (with the log) / (without) for field `index` (0 wall, 1 CPU):
    each run against the one beside it, which met the same moment of the machine."""
    return statistics.median(a[index] / b[index] for a, b in zip(times["log"], times["no log"]))


FLOOR = os.path.join(REPO, "target", "release", "examples", "sqlite_floor")


def sqlite_floor(path, runs):
    """Median ms that the database's share of `check` takes alone, through this workspace's
    SQLite build (revise-runtime/examples/sqlite_floor.rs): open the file and read
    `alembic_version`; the same and scan the log's recorded checksums."""
    def median(*flags):
        out = subprocess.run([FLOOR, f"sqlite://{path}", str(runs), *flags], check=True,
                             capture_output=True,
                             text=True).stdout
        return float(out.strip()) / 1000
    return median(), median("--log")


def instructions(cwd, env, cmd):
    """Instructions the command executes (callgrind's count: the same from run to run and
    whatever the machine's load), or None without valgrind."""
    if not shutil.which("valgrind"):
        return None
    run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                         cwd=cwd, env=env, capture_output=True, text=True)
    for line in run.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1])
    return None


def check_at_10000(base, runs):
    """hyperfine of `check` at 10,000 applied revisions, with every step in the log and with
    no log; SQLite on /dev/shm."""
    results = {}
    for name, log in (("log", True), ("no log", False)):
        # (`heads` below reads no database: how loaded the machine is shows in it.)
        ws = workspace(os.path.join(base, f"check-{name.replace(' ', '-')}"), 10000, log)
        url = f"sqlite://{os.path.join(SHM or base, f'revise-bench-check-{log}.db')}"
        fresh("sqlite", url)
        env = dict(os.environ, DATABASE_URL=url)
        subprocess.run([REVISE, "-q", "up"], cwd=ws, env=env, check=True, stdout=subprocess.DEVNULL)
        # The header cache settles two seconds after the files were written.
        time.sleep(2.5)
        out = os.path.join(base, f"hyperfine-{log}.json")
        subprocess.run(["hyperfine", "-N", "--warmup", "3", "--runs", str(runs), "--export-json", out,
                        f"{REVISE} check", f"{REVISE} heads"], cwd=ws, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        with open(out) as f:
            measured = json.load(f)["results"]
        results[name] = measured[0]
        results[f"heads ({name})"] = measured[1]
        results[f"instructions ({name})"] = instructions(ws, env, [REVISE, "check"])
        if name == "log":
            rows = subprocess.run([REVISE, "log", "--format", "json"], cwd=ws, env=env, check=True,
                                  capture_output=True, text=True).stdout
            results["log rows"] = len(json.loads(rows)["entries"])
            results["sqlite floor"] = sqlite_floor(url[len("sqlite://"):], runs)
        fresh("sqlite", url)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--disk-pairs", type=int, default=6)
    parser.add_argument("--pg-pairs", type=int, default=10)
    parser.add_argument("--check-runs", type=int, default=30)
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    args = parser.parse_args()
    sh(f"cd {REPO} && cargo build --release -q -p cargo-revise")
    sh(f"cd {REPO} && cargo build --release -q -p revise-runtime --example sqlite_floor")
    base = os.path.join(REPO, "target", "bench-run-log")
    dbs = ["sqlite-shm", "sqlite"] + (["postgres"] if args.postgres else [])
    pairs = {"sqlite-shm": args.pairs, "sqlite": args.disk_pairs, "postgres": args.pg_pairs}
    ups = {db: up_pairs(db, pairs[db], base) for db in dbs}
    check = check_at_10000(base, args.check_runs)
    version = subprocess.run(["hyperfine", "--version"], capture_output=True, text=True).stdout.strip()

    names = {"sqlite-shm": "SQLite, /dev/shm", "sqlite": "SQLite, disk file", "postgres": "PostgreSQL"}
    lines = [
        "## The run log: what it costs `up`, and `check` at 10,000 revisions (issue 17)",
        "",
        "`up` of 1,000 revisions (one chain, a table each) on a fresh database, with the run log "
        "and with `log_table = false`, interleaved in the same run (after one warm-up of each, "
        "alternating which goes first; pairs: "
        + ", ".join(f"{names[db]} {pairs[db]}" for db in dbs)
        + "): SQLite on a file on this machine's disk (what a project has) and on a file in "
        "/dev/shm (no fsync: SQLite's CPU work alone, the log's worst case), PostgreSQL 15 on this "
        "machine over TCP (TLS, as libpq negotiates by default). Medians of the wall time and of "
        "the CPU time (user + system of the process), and the median of the pairs' ratios (each "
        "run against the one beside it, which met the same moment of this shared 2-core machine: "
        "steadier than the difference of two medians), release build, `python3 benches/run_log.py`.",
        "",
        "| database | `up` with the log | without | wall difference | pairs' median ratio | CPU with / without | CPU difference |",
        "|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for db, times in ups.items():
        wall = lambda name: statistics.median(t[0] for t in times[name])  # noqa: E731
        cpu = lambda name: statistics.median(t[1] for t in times[name])  # noqa: E731
        diff = (wall("log") - wall("no log")) / wall("no log")
        ratio = pair_ratio(times, 0) - 1
        cpu_diff = (cpu("log") - cpu("no log")) / cpu("no log")
        lines.append(
            f"| {names[db]} | {wall('log') * 1000:.0f} ms | {wall('no log') * 1000:.0f} ms | "
            f"{diff * 100:+.1f}% | {ratio * 100:+.1f}% | {cpu('log') * 1000:.0f} / "
            f"{cpu('no log') * 1000:.0f} ms | {cpu_diff * 100:+.1f}% |")
        verdicts.append(f"{names[db]} {diff * 100:+.1f}% / {ratio * 100:+.1f}%: "
                        + ("met" if max(diff, ratio) <= 0.05 else "**missed**"))
    lines += [
        "",
        "Target (within 5%, by both the medians and the pairs): " + "; ".join(verdicts) + ".",
        "",
        "Where the difference goes (client instructions per step, callgrind, steady under any "
        "load). On PostgreSQL the row rides on the step's change to `alembic_version`: one "
        "statement, `WITH logged AS (INSERT INTO revise_log ...) UPDATE alembic_version ...`, so "
        "the log costs a step no round trip of its own; the log adds 68,000 instructions to the "
        "166,000 of a step without it (93,000 when the INSERT was a statement of its own, 47,000 "
        "of them the round trip through TLS), 25,000 of them building the row, and the server's "
        "insert of the row, which wall time alone shows. On SQLite each step's DDL changes the "
        "schema, which expires every prepared statement, so the INSERT is compiled again every "
        "step: 41,000 instructions (67,000 while it named its 18 columns; the values now go by "
        "position), 20,000 building the row, 101,000 in all against 446,000 a step without the "
        "log; and the row lands on one more page per commit, which the rollback journal copies "
        "out and writes back (four more writes a step, strace) before the fsyncs, whose count "
        "does not change. On /dev/shm, where nothing waits for a disk, that is a fifth of a "
        "step; on a disk file it is what the table shows.",
    ]
    c = check["log"]
    n = check["no log"]
    h = check["heads (log)"]
    floor, floor_log = check["sqlite floor"]
    lines += [
        "",
        f"`check` at 10,000 applied revisions on SQLite ({check['log rows']:,} rows in the log: it "
        "reads every recorded checksum and the unfinished steps in one scan, and compares each "
        f"applied file's checksum from the header cache), {args.check_runs} runs ({version}):",
        "",
        "| command | median | min | max | CPU (user + system, mean) |",
        "|---|---|---|---|---|",
    ]
    for label, r in (("`check`, every revision in the log", c), ("`check`, database without a log", n),
                     ("`heads` (no database), for scale", h)):
        lines.append(f"| {label} | {r['median'] * 1000:.1f} ms | {r['min'] * 1000:.1f} ms | "
                     f"{r['max'] * 1000:.1f} ms | {(r['user'] + r['system']) * 1000:.1f} ms |")
    lines.append(f"| the database's share alone (`examples/sqlite_floor.rs`, the same SQLite "
                 f"build): open it, read `alembic_version` | {floor * 1000:.1f} ms | | | |")
    lines.append(f"| the same, and scan the log's recorded checksums as `check` does | "
                 f"{floor_log * 1000:.1f} ms | | | |")
    ci, ni = check["instructions (log)"], check["instructions (no log)"]
    lines += [
        "",
        "Target under 50 ms: " + ("met" if c["median"] < 0.050 else "**missed**")
        + f". The log adds {(c['median'] - n['median']) * 1000:+.1f} ms (median) and "
        f"{((c['user'] + c['system']) - (n['user'] + n['system'])) * 1000:+.1f} ms of CPU to `check`"
        + (f", {(ci - ni) / 1e6:.0f} million instructions ({ci / 1e6:.0f} M against {ni / 1e6:.0f} M; "
           "callgrind, the same whatever the load)" if ci and ni else "")
        + ": one scan of the log, each recorded checksum read as one short text line "
        "(`revision checksum`), the unfinished steps marked in the same pass. `check` reads the "
        "database on a thread while the files are read and the graph built, two shares of about "
        "the same size: before SQLite answers any query on this database it parses the "
        "schema of its 10,000 tables (100 million instructions, nearly half of `check`'s), and "
        "then scans the log. The last two rows are that database work alone: "
        f"{floor * 1000:.0f} ms to open the database and read one table, {floor_log * 1000:.0f} ms "
        "with the log's checksums; `heads` is about the work on the files alone. `check` runs the "
        "two at once, on the machine's two cores, and together they take the CPU time of the "
        f"first row, {(c['user'] + c['system']) * 1000:.0f} ms, so even perfectly overlapped "
        f"`check` cannot end under {(c['user'] + c['system']) * 500:.0f} ms here. Meeting 50 ms "
        "would take less CPU, and nearly half of it is SQLite parsing the schema of 10,000 "
        "tables, which no reader of this database avoids; a history of 10,000 revisions over "
        "fewer tables pays only for the tables it has.",
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
