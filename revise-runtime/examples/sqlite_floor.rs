//! What the database's share of `check` costs on its own, through the SQLite this crate
//! builds (benches/run_log.py): open a SQLite file, read `alembic_version`, and, with `--log`,
//! scan the run log's recorded checksums as `check` does. SQLite parses the whole schema of
//! the database before it answers the first query, so on a database of thousands of tables
//! this is the floor under any `check` of it.
//!
//!     cargo run --release -p revise-runtime --example sqlite_floor -- FILE RUNS [--log]
//!
//! Prints the median of RUNS timings in milliseconds (after three runs not counted).

use std::time::Instant;

use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

/// The query `check` runs on the log (`backend/log_sql.rs`, `read_checks`).
const LOG_QUERY: &str = "SELECT CASE WHEN success IS NULL THEN '?' \
     ELSE revision || ' ' || checksum END AS line FROM revise_log \
     WHERE success IS NULL OR (success = 1 AND direction IN ('up', 'stamp', 'accept') \
     AND checksum IS NOT NULL) ORDER BY id";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(file), Some(runs)) = (args.first(), args.get(1)) else {
        return Err("usage: sqlite_floor FILE RUNS [--log]".into());
    };
    let runs: usize = runs.parse()?;
    let with_log = args.iter().any(|a| a == "--log");
    let mut times = Vec::with_capacity(runs + 3);
    for _ in 0..runs + 3 {
        let start = Instant::now();
        let mut conn = SqliteConnection::establish(file)?;
        let mut lines: Vec<Line> =
            diesel::sql_query("SELECT version_num AS line FROM alembic_version").load(&mut conn)?;
        if with_log {
            lines.extend(diesel::sql_query(LOG_QUERY).load::<Line>(&mut conn)?);
        }
        let read: usize = lines.iter().map(|l| l.line.len()).sum();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        // The connection closes outside the timing, as `check` closes it off its path.
        drop(conn);
        std::hint::black_box(read);
    }
    let mut counted = times.split_off(3);
    counted.sort_by(f64::total_cmp);
    println!("{:.1}", counted[counted.len() / 2]);
    Ok(())
}
