"""A/B of `cargo revise up -q` between two builds, for a change that must not slow `up` down.

    python3 benches/ab_up.py BASE_BINARY NEW_BINARY sqlite|postgres ROUNDS [--db-path PATH] [--async-commit]

Runs both binaries on the same fresh database, alternating which goes first each round (the
machine is shared and noisy: interleaving spreads the noise over both), on the 1,000-revision
linear set of benches/generate.py (made under target/bench/ab-linear-1000 on first use).
Prints JSON: wall time and the client's own CPU time (user + system, getrusage of the child),
as minimum, median, and the median of the per-round ratios. `--db-path` puts the SQLite file
elsewhere (/dev/shm takes the disk's fsync out); `--async-commit` sets synchronous_commit
off on the PostgreSQL bench database, for the same reason.
"""
import argparse, json, os, resource, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("base")
parser.add_argument("new")
parser.add_argument("db", choices=["sqlite", "postgres"])
parser.add_argument("rounds", type=int)
parser.add_argument("--db-path", dest="db_path")
parser.add_argument("--async-commit", action="store_true")
args = parser.parse_args()
ROOT = os.path.join(os.path.dirname(HERE), "target", "bench", "ab-linear-1000")
if not os.path.exists(os.path.join(ROOT, "ws")):
    generate.generate(ROOT, 1000, "linear")
WS = os.path.join(ROOT, "ws")
A, B = args.base, args.new
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
db, rounds = args.db, args.rounds
if db == "sqlite":
    path = args.db_path or os.path.join(ROOT, "bench.db")
    url, fresh = f"sqlite://{path}", f"rm -f {path}"
else:
    url = "postgresql://postgres@127.0.0.1:5432/revise_ab_up"
    fresh = f"psql -q -X {PG_ADMIN} -c 'DROP DATABASE IF EXISTS revise_ab_up' -c 'CREATE DATABASE revise_ab_up'"
    if args.async_commit:
        fresh += " -c 'ALTER DATABASE revise_ab_up SET synchronous_commit = off'"
env = dict(os.environ, DATABASE_URL=url)
wall = {A: [], B: []}
cpu = {A: [], B: []}
for r in range(rounds):
    for binary in ((A, B) if r % 2 == 0 else (B, A)):
        subprocess.run(fresh, shell=True, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([binary, "up", "-q"], cwd=WS, env=env, check=True, stdout=subprocess.DEVNULL)
        wall[binary].append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[binary].append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
def summary(series):
    a, b = series[A], series[B]
    return {"base_min_ms": round(min(a) * 1000, 1), "new_min_ms": round(min(b) * 1000, 1),
            "base_median_ms": round(statistics.median(a) * 1000, 1), "new_median_ms": round(statistics.median(b) * 1000, 1),
            "min_change_pct": round((min(b) / min(a) - 1) * 100, 2),
            "median_change_pct": round((statistics.median(b) / statistics.median(a) - 1) * 100, 2),
            "paired_median_change_pct": round((statistics.median([y / x for x, y in zip(a, b)]) - 1) * 100, 2)}
print(json.dumps({"db": db, "rounds": rounds, "wall": summary(wall), "client_cpu": summary(cpu), "load": os.getloadavg(),
                  "raw_wall_ms": {"base": [round(t * 1000) for t in wall[A]], "new": [round(t * 1000) for t in wall[B]]}}))
