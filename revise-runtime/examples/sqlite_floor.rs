//! What the database's share of `check` costs on its own (benches/run_log.py): open a SQLite
//! database, read `alembic_version` and, with `--log`, the run log's recorded checksums, with
//! the same calls `check` makes. SQLite parses the whole schema of the database before it
//! answers the first query, so on a database of thousands of tables this is the floor under
//! any `check` of it.
//!
//!     cargo run --release -p revise-runtime --example sqlite_floor -- URL RUNS [--log]
//!
//! Prints the median of RUNS timings in milliseconds (after three runs not counted).

use std::time::Instant;

use revise_runtime::backend::connect_existing;
use revise_runtime::run_log::LogTable;
use revise_runtime::{DatabaseUrl, VersionStore, VersionTable};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(url), Some(runs)) = (args.first(), args.get(1)) else {
        return Err("usage: sqlite_floor URL RUNS [--log]".into());
    };
    let url = DatabaseUrl::parse(url, &std::env::current_dir()?)?;
    let runs: usize = runs.parse()?;
    let log = args
        .iter()
        .any(|a| a == "--log")
        .then(|| LogTable::new(LogTable::DEFAULT_NAME))
        .transpose()?;
    let table = VersionTable::default();
    let mut times = Vec::with_capacity(runs + 3);
    for _ in 0..runs + 3 {
        let start = Instant::now();
        let mut conn = connect_existing(&url)?.ok_or("the database does not exist")?;
        let rows = conn.read_rows(&table)?.unwrap_or_default();
        let checks = match &log {
            Some(log) => conn.read_checks(log)?,
            None => None,
        };
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        // The connection closes outside the timing, as `check` closes it off its path.
        drop(conn);
        std::hint::black_box((rows, checks));
    }
    let mut counted = times.split_off(3);
    counted.sort_by(f64::total_cmp);
    println!("{:.1}", counted[counted.len() / 2]);
    Ok(())
}
