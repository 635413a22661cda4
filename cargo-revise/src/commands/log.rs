//! `cargo revise log`: what ran against the database, newest first, from the run log.

use revise_runtime::backend::connect_existing;
use revise_runtime::run_log::{LogOutcome, LogRecord};
use revise_runtime::RevisionGraph;
use serde_json::{json, Value};

use crate::cli::{Format, LogArgs};
use crate::error::CliError;
use crate::settings;

use super::Context;

/// Prints the log's entries (none when the database or its log does not exist yet).
pub fn run(context: &Context, args: &LogArgs) -> Result<(), CliError> {
    let setting = context.database()?;
    let Some(table) = settings::log_table(&context.workspace)? else {
        return Err(CliError::failed(
            "the run log is off: [workspace.metadata.revise] log_table = false",
        ));
    };
    // The log is read without the revision files: it holds what ran, files or not.
    let empty = RevisionGraph::build(Vec::new())
        .map_err(|e| CliError::from(revise_runtime::source::LoadErrors::from(e)))?;
    let migrator = context.migrator(&empty)?;
    // A database that does not exist yet has no log: say so without creating it.
    let records = match connect_existing(&setting.url)? {
        Some(mut conn) => migrator.log_records(&mut conn, args.limit)?,
        None => None,
    };
    let records = records.unwrap_or_default();
    match args.format {
        // `--format jsonl` is refused before any command runs (it is a fleet's).
        Format::Json | Format::Jsonl => context.printer.json(&json!({
            "database": setting.url.to_string(),
            "log_table": table.name(),
            "entries": records.iter().map(entry_json).collect::<Vec<Value>>(),
        })),
        Format::Human if records.is_empty() => context.printer.line(format!(
            "The run log `{}` of {} is empty: nothing has run since cargo revise began logging there",
            table.name(),
            setting.url
        )),
        Format::Human => context.printer.lines(table_lines(&records)),
    }
    Ok(())
}

/// One line per entry, in aligned columns: when, what, which revision, how it ended, how
/// long it took, who ran it, the message; a failure's message on the line below.
fn table_lines(records: &[LogRecord]) -> Vec<String> {
    let rows: Vec<[String; 5]> = records
        .iter()
        .map(|r| {
            [
                r.direction.as_str().to_owned(),
                format!("{} ({})", r.revision, r.member),
                outcome(r).to_owned(),
                r.duration_ms
                    .map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms")),
                format!("{} ({})", r.author(), r.tool),
            ]
        })
        .collect();
    let width = |column: usize| rows.iter().map(|r| r[column].len()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2), width(3), width(4)];
    let mut lines = Vec::with_capacity(records.len() + 1);
    for (record, row) in records.iter().zip(&rows) {
        lines.push(
            format!(
                "{}  {:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:<w4$}  {}",
                record.started_at_seconds(),
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                record.message,
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
                w4 = widths[4],
            )
            .trim_end()
            .to_owned(),
        );
        if let Some(error) = &record.error {
            lines.push(format!("    {error}"));
        }
    }
    lines
}

/// `ok`, `failed`, `unfinished`, or `stamped away` for a stamp that took a revision off.
fn outcome(record: &LogRecord) -> &'static str {
    match record.outcome {
        LogOutcome::Succeeded if record.checksum.is_none() => "ok (away)",
        other => other.as_str(),
    }
}

fn entry_json(record: &LogRecord) -> Value {
    json!({
        "id": record.id,
        "revision": record.revision,
        "member": record.member,
        "direction": record.direction.as_str(),
        "outcome": record.outcome.as_str(),
        "checksum": record.checksum.map(|c| c.to_string()),
        "path": record.path,
        "message": record.message,
        "revises": record.revises,
        "depends_on": record.depends_on,
        "down": record.down.as_ref().map(|d| json!({"sql": d.sql, "transactional": d.transactional})),
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "duration_ms": record.duration_ms,
        "error": record.error,
        "tool": record.tool,
        "user": record.user,
        "host": record.host,
    })
}
