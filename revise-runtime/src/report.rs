//! What a run tells its user: events, the [`Reporter`] that receives them, and the plain
//! status report of SPEC section 7.
//!
//! The migrator only emits events; the CLI renders them with a progress bar, an application
//! with [`PlainReport`] or its own reporter (into `log` or `tracing`, say).

use std::io::Write;
use std::time::Duration;

use crate::failure::SqlFailure;
use crate::version_rows::Direction;

/// A revision as a report shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionSummary {
    /// Its id.
    pub id: String,
    /// Its message.
    pub message: String,
    /// Its file.
    pub path: String,
}

/// Something that happened during a run, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunEvent {
    /// The run starts reading the database.
    Checking,
    /// Another run holds the lock; this one waits for it.
    WaitingForLock,
    /// The rows found at the start (empty: the database was never migrated).
    Current {
        /// The version table's rows.
        rows: Vec<String>,
    },
    /// Nothing to do: the database already is where the target asks.
    NothingToRun {
        /// The direction that was asked for.
        direction: Direction,
    },
    /// The steps about to run.
    Pending {
        /// Apply or revert.
        direction: Direction,
        /// The revisions, in order.
        revisions: Vec<RevisionSummary>,
    },
    /// One step starts.
    StepStarted {
        /// Its 0-based position.
        index: usize,
        /// The number of steps.
        total: usize,
        /// Apply or revert.
        direction: Direction,
        /// The revision.
        revision: RevisionSummary,
    },
    /// One step was committed.
    StepFinished {
        /// Its 0-based position.
        index: usize,
        /// The number of steps.
        total: usize,
        /// The revision.
        revision: RevisionSummary,
        /// How long it took.
        elapsed: Duration,
    },
    /// Another run moved the database; the remaining steps were planned again.
    Replanned {
        /// The rows found.
        rows: Vec<String>,
        /// The steps still to run.
        remaining: usize,
    },
    /// An applied revision's file changed since it ran (drift): `up` warns once per file.
    Drifted {
        /// The revision and its file.
        revision: RevisionSummary,
        /// When the run log last recorded the file (UTC, to the second).
        applied_at: String,
        /// What recorded it: `up`, `stamp` or `accept`.
        how: crate::run_log::LogDirection,
    },
    /// Every step ran.
    Completed {
        /// Apply or revert.
        direction: Direction,
        /// The rows now.
        rows: Vec<String>,
    },
    /// A step failed; what ran before it stays.
    Failed {
        /// The revision that failed.
        revision: RevisionSummary,
        /// The rows now.
        rows: Vec<String>,
        /// What may remain of the failed revision, where the database could not roll it back.
        left_behind: Option<String>,
        /// The line of the file where the failing statement starts (the section's marker
        /// when the statement could not be told), as in the error the run returns.
        line: usize,
        /// What the database said, and which statement failed.
        failure: SqlFailure,
    },
}

/// Receives the events of a run.
pub trait Reporter {
    /// Called once per event.
    fn report(&mut self, event: &RunEvent);

    /// Asked before each step: true stops the run at that revision boundary, with
    /// [`crate::MigrateError::Interrupted`]. A fleet run says so after its first Ctrl-C, so
    /// that every database in flight ends between two revisions; the default never stops.
    fn stop_requested(&mut self) -> bool {
        false
    }
}

/// A reporter that says nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct SilentReport;

impl Reporter for SilentReport {
    fn report(&mut self, _event: &RunEvent) {}
}

/// The status report of SPEC section 7, written line by line to `out`.
///
/// A report that cannot be written (the output is a closed pipe, a full disk, a closed
/// terminal) never stops the run it reports on: the first failed write ends the report, the
/// run goes on, and [`PlainReport::write_error`] says what happened.
#[derive(Debug)]
pub struct PlainReport<W: Write> {
    out: W,
    emoji: bool,
    failed: Option<std::io::Error>,
}

impl PlainReport<std::io::Stdout> {
    /// The report on standard output, with emoji.
    pub fn stdout() -> Self {
        Self::new(std::io::stdout(), true)
    }
}

impl<W: Write> PlainReport<W> {
    /// A report into `out`; `emoji` false replaces the pictures with plain text.
    pub fn new(out: W, emoji: bool) -> Self {
        Self {
            out,
            emoji,
            failed: None,
        }
    }

    /// Why the report stopped being written, if it did.
    pub fn write_error(&self) -> Option<&std::io::Error> {
        self.failed.as_ref()
    }

    /// The lines an event prints (none for the per-step events, which progress bars show).
    pub fn lines(&self, event: &RunEvent) -> Vec<String> {
        let icon =
            |emoji: &'static str, plain: &'static str| if self.emoji { emoji } else { plain };
        match event {
            RunEvent::Checking => vec![format!("{}Checking migration status...", icon("🔄 ", ""))],
            RunEvent::WaitingForLock => vec![format!(
                "{}Waiting for another migration run to finish...",
                icon("⏳ ", "")
            )],
            RunEvent::Current { rows } if rows.is_empty() => vec![format!(
                "{}Database not initialized (no migrations applied yet)",
                icon("📍 ", "")
            )],
            RunEvent::Current { rows } => vec![format!(
                "{}Current database version: {}",
                icon("📍 ", ""),
                short_versions(rows)
            )],
            RunEvent::NothingToRun {
                direction: Direction::Up,
            } => vec![format!(
                "{}Database is up to date - no migrations needed",
                icon("✅ ", "")
            )],
            RunEvent::NothingToRun {
                direction: Direction::Down,
            } => vec![format!(
                "{}Database is already at the target - nothing to revert",
                icon("✅ ", "")
            )],
            RunEvent::Pending {
                direction,
                revisions,
            } => {
                let (title, bullet) = match direction {
                    Direction::Up => ("Running {} pending migration(s)...", icon("⏩ ", "- ")),
                    Direction::Down => ("Reverting {} migration(s)...", icon("⏪ ", "- ")),
                };
                let mut lines = vec![format!(
                    "{}{}",
                    icon("🔄 ", ""),
                    title.replace("{}", &revisions.len().to_string())
                )];
                lines.extend(
                    revisions
                        .iter()
                        .map(|r| format!("   {bullet}{} - {}", short_id(&r.id), r.message)),
                );
                lines
            }
            RunEvent::StepStarted { .. } | RunEvent::StepFinished { .. } => Vec::new(),
            RunEvent::Drifted {
                revision,
                applied_at,
                how,
            } => vec![format!(
                "{}{} changed since revision {} was {} on {applied_at}: the database holds what the file said then; restore the file, or record the change with `cargo revise accept {}`",
                icon("⚠️  ", "warning: "),
                revision.path,
                revision.id,
                how.recorded_as(),
                revision.id,
            )],
            RunEvent::Replanned { rows, remaining } => vec![format!(
                "{}Another run moved the database to {}; {remaining} migration(s) left to run",
                icon("🔄 ", ""),
                if rows.is_empty() {
                    "base".to_owned()
                } else {
                    short_versions(rows)
                }
            )],
            RunEvent::Completed { direction, rows } => vec![
                format!(
                    "{}{}",
                    icon("✅ ", ""),
                    match direction {
                        Direction::Up => "Migrations completed successfully!",
                        Direction::Down => "Downgrade completed successfully!",
                    }
                ),
                new_version_line(icon("📍 ", ""), rows),
            ],
            RunEvent::Failed {
                revision,
                rows,
                left_behind,
                line,
                ..
            } => {
                let mut lines = vec![
                    format!(
                        "{}Migration {} failed ({}:{line}); it was rolled back",
                        icon("❌ ", ""),
                        revision.id,
                        revision.path
                    ),
                    format!(
                        "{}Database remains at version: {}",
                        icon("📍 ", ""),
                        if rows.is_empty() {
                            "base (no migrations applied)".to_owned()
                        } else {
                            short_versions(rows)
                        }
                    ),
                ];
                if let Some(left) = left_behind {
                    lines[0] = format!(
                        "{}Migration {} failed ({}:{line})",
                        icon("❌ ", ""),
                        revision.id,
                        revision.path
                    );
                    lines.push(format!("{}{left}", icon("⚠️  ", "warning: ")));
                }
                lines
            }
        }
    }
}

fn new_version_line(icon: &str, rows: &[String]) -> String {
    if rows.is_empty() {
        format!("{icon}New database version: base (no migrations applied)")
    } else {
        format!("{icon}New database version: {}", short_versions(rows))
    }
}

impl<W: Write> Reporter for PlainReport<W> {
    fn report(&mut self, event: &RunEvent) {
        if self.failed.is_some() {
            return;
        }
        for line in self.lines(event) {
            // Flushed line by line: a report read as it happens (a log, a terminal) must not
            // wait in a buffer, and a failure must show up here, not when the writer drops.
            if let Err(e) = writeln!(self.out, "{line}").and_then(|()| self.out.flush()) {
                self.failed = Some(e);
                return;
            }
        }
    }
}

/// Runs an application's `main` body and turns its outcome into the exit status, reporting
/// a failure as `cargo revise` does: `error: ` and the error's message on standard error
/// (then each underlying cause the message does not already include), and exit status 1.
///
/// `fn main() -> Result<(), Box<dyn Error>>` would print the error's `Debug` form instead,
/// the structure of the error rather than what went wrong.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     revise_runtime::report_errors(|| {
///         let mut conn = revise_runtime::connect("sqlite://app.db")?;
///         let rows = revise_runtime::VersionStore::read_rows(&mut conn, &Default::default())?;
///         println!("{rows:?}");
///         Ok(())
///     })
/// }
/// ```
pub fn report_errors(
    body: impl FnOnce() -> Result<(), Box<dyn std::error::Error>>,
) -> std::process::ExitCode {
    match body() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let _ = std::io::stderr().write_all(error_text(&*error).as_bytes());
            std::process::ExitCode::FAILURE
        }
    }
}

/// `error: MESSAGE` and a `caused by:` line for each cause the message leaves out.
fn error_text(error: &dyn std::error::Error) -> String {
    let message = error.to_string();
    let mut text = format!("error: {message}\n");
    let mut cause = error.source();
    while let Some(inner) = cause {
        let shown = inner.to_string();
        if !message.contains(&shown) {
            text.push_str(&format!("  caused by: {shown}\n"));
        }
        cause = inner.source();
    }
    text
}

/// The first 12 characters of an id (the length of Alembic's generated ids).
pub fn short_id(id: &str) -> &str {
    match id.char_indices().nth(12) {
        Some((cut, _)) => &id[..cut],
        None => id,
    }
}

/// Rows as the report shows them: each id shortened with `...` when cut.
pub fn short_versions(rows: &[String]) -> String {
    rows.iter()
        .map(|r| {
            let short = short_id(r);
            if short.len() < r.len() {
                format!("{short}...")
            } else {
                short.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, message: &str) -> RevisionSummary {
        RevisionSummary {
            id: id.into(),
            message: message.into(),
            path: format!("m/{id}.sql"),
        }
    }

    #[test]
    fn the_seed_report() {
        let report = PlainReport::new(Vec::new(), true);
        let lines: Vec<String> = [
            RunEvent::Checking,
            RunEvent::Current {
                rows: vec!["002_add_categories".into()],
            },
            RunEvent::Pending {
                direction: Direction::Up,
                revisions: vec![
                    summary("003_add_priority", "Add priority column to examples"),
                    summary("004_remove_description", "Remove description column"),
                ],
            },
            RunEvent::Completed {
                direction: Direction::Up,
                rows: vec!["004_remove_description".into()],
            },
        ]
        .iter()
        .flat_map(|e| report.lines(e))
        .collect();
        assert_eq!(
            lines,
            [
                "🔄 Checking migration status...",
                "📍 Current database version: 002_add_cate...",
                "🔄 Running 2 pending migration(s)...",
                "   ⏩ 003_add_prio - Add priority column to examples",
                "   ⏩ 004_remove_d - Remove description column",
                "✅ Migrations completed successfully!",
                "📍 New database version: 004_remove_d...",
            ]
        );
    }

    /// A writer that takes `room` bytes and then fails as a pipe without a reader does.
    struct ClosingPipe {
        room: usize,
        written: Vec<u8>,
        attempts_after_closing: usize,
    }

    impl Write for ClosingPipe {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.written.len() + buf.len() > self.room {
                self.attempts_after_closing += 1;
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_output_ends_the_report_at_the_first_failed_line() {
        let pipe = ClosingPipe {
            room: 40,
            written: Vec::new(),
            attempts_after_closing: 0,
        };
        let mut report = PlainReport::new(pipe, false);
        report.report(&RunEvent::Checking);
        assert!(report.write_error().is_none());
        report.report(&RunEvent::Current { rows: vec![] });
        report.report(&RunEvent::NothingToRun {
            direction: Direction::Up,
        });
        report.report(&RunEvent::Completed {
            direction: Direction::Up,
            rows: vec!["a1".into()],
        });
        assert_eq!(
            report.write_error().map(std::io::Error::kind),
            Some(std::io::ErrorKind::BrokenPipe)
        );
        assert_eq!(report.out.written, b"Checking migration status...\n");
        assert_eq!(
            report.out.attempts_after_closing, 1,
            "nothing is written after the first failure"
        );
    }

    #[test]
    fn errors_read_as_the_cli_writes_them() {
        #[derive(Debug, thiserror::Error)]
        #[error("connecting to the database failed")]
        struct Outer(#[source] std::io::Error);

        let plain = crate::DbError::new("reading the version table `v`", "database is locked");
        assert_eq!(
            error_text(&plain),
            "error: reading the version table `v`: database is locked\n"
        );
        let nested = Outer(std::io::Error::other("connection refused"));
        assert_eq!(
            error_text(&nested),
            "error: connecting to the database failed\n  caused by: connection refused\n"
        );
    }

    #[test]
    fn a_failure_names_the_file_and_the_line_of_its_statement() {
        let report = PlainReport::new(Vec::new(), false);
        let failed = |left_behind: Option<&str>| RunEvent::Failed {
            revision: summary("u3", "Create u3"),
            rows: vec!["u2".into()],
            left_behind: left_behind.map(Into::into),
            line: 12,
            failure: SqlFailure::message("no such table: t"),
        };
        assert_eq!(
            report.lines(&failed(None)),
            [
                "Migration u3 failed (m/u3.sql:12); it was rolled back",
                "Database remains at version: u2",
            ]
        );
        assert_eq!(
            report.lines(&failed(Some("1 statement(s) ran"))),
            [
                "Migration u3 failed (m/u3.sql:12)",
                "Database remains at version: u2",
                "warning: 1 statement(s) ran",
            ]
        );
    }

    #[test]
    fn plain_text_without_emoji() {
        let report = PlainReport::new(Vec::new(), false);
        assert_eq!(
            report.lines(&RunEvent::NothingToRun {
                direction: Direction::Up
            }),
            ["Database is up to date - no migrations needed"]
        );
        assert_eq!(
            report.lines(&RunEvent::Current { rows: vec![] }),
            ["Database not initialized (no migrations applied yet)"]
        );
    }
}
