//! The CLI's error: a message, where it points, and the exit status it maps to.
//!
//! Every failure passes through [`CliError`] so that `main` maps it to an exit status in one
//! place: 1 when an operation failed, 2 for bad usage or bad input files (SPEC section 5),
//! 130 when a fleet run was interrupted (SPEC section 11), 141 when a command that only
//! prints lost its output.

use std::path::PathBuf;

use revise_runtime::failure::{FailedStatement, SqlFailure};
use revise_runtime::migrator::MigrateError;
use revise_runtime::source::LoadErrors;

/// The exit status of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The operation failed: a revision failed, the database refused, `check` found work.
    Failed = 1,
    /// Bad usage or bad input files.
    BadInput = 2,
    /// A fleet run was interrupted by a signal (Ctrl-C, SIGTERM): 128 + SIGINT, as a shell
    /// shows for a command it interrupted.
    Interrupted = 130,
    /// The output of a command that only prints was closed before it was all written: 128 +
    /// SIGPIPE, what a shell shows for `ls | head -1` when `ls` still had more to write.
    OutputClosed = 141,
}

/// A problem in a file, shown as `--> path:line`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file, relative to the workspace root when it is inside it.
    pub path: PathBuf,
    /// The line, when known.
    pub line: Option<usize>,
    /// The statement to show under it instead of the file's one line: what ran, which is
    /// also what an error position counts in.
    pub statement: Option<FailedStatement>,
}

impl Location {
    /// A line of a file (or the whole file).
    pub fn at(path: impl Into<PathBuf>, line: Option<usize>) -> Self {
        Self {
            path: path.into(),
            line,
            statement: None,
        }
    }
}

/// One error to show the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The sentence.
    pub message: String,
    /// Where, if anywhere.
    pub location: Option<Location>,
    /// What else is known, one `= ...` line each (the database's detail and hint).
    pub notes: Vec<String>,
}

impl Problem {
    /// A sentence without location or notes.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            location: None,
            notes: Vec::new(),
        }
    }
}

/// Everything a failed command shows, and its exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliError {
    /// The exit status.
    pub status: Status,
    /// The problems, first the main one.
    pub problems: Vec<Problem>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl CliError {
    /// Bad usage or input without a file location.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::single(Status::BadInput, message)
    }

    /// A failed operation.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::single(Status::Failed, message)
    }

    fn single(status: Status, message: impl Into<String>) -> Self {
        Self {
            status,
            problems: vec![Problem::new(message)],
            hint: None,
        }
    }

    /// Adds a hint line.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl From<LoadErrors> for CliError {
    fn from(errors: LoadErrors) -> Self {
        let problems = errors
            .0
            .iter()
            .map(|e| {
                let text = e.to_string();
                // The runtime's messages start with `path:line: `; the location is shown apart.
                let message = match e.line() {
                    Some(line) => {
                        let prefix = format!("{}:{line}: ", e.path().display());
                        text.strip_prefix(&prefix).unwrap_or(&text).to_owned()
                    }
                    None => text,
                };
                Problem {
                    message,
                    location: Some(Location::at(e.path(), e.line())),
                    notes: Vec::new(),
                }
            })
            .collect();
        Self {
            status: Status::BadInput,
            problems,
            hint: Some("fix the revision files above; nothing was run".to_owned()),
        }
    }
}

impl From<MigrateError> for CliError {
    fn from(error: MigrateError) -> Self {
        let status = if error.is_bad_input() {
            Status::BadInput
        } else {
            Status::Failed
        };
        let problem = match error {
            MigrateError::StepFailed {
                id,
                path,
                line,
                verb,
                failure,
            } => failed_revision(&id, path, line, verb, *failure),
            other => Problem::new(other.to_string()),
        };
        Self {
            status,
            problems: vec![problem],
            hint: None,
        }
    }
}

/// A failed revision as cargo would show it: the database's message, `-->` at the
/// statement with its first lines, then what the database added.
fn failed_revision(
    id: &str,
    path: String,
    line: usize,
    verb: &str,
    failure: SqlFailure,
) -> Problem {
    let place = failure
        .statement
        .as_ref()
        .map(|s| format!(" (statement {} of {})", s.number, s.count))
        .unwrap_or_default();
    let mut notes = Vec::new();
    let labelled = [
        ("detail", &failure.detail),
        ("hint", &failure.hint),
        ("code", &failure.code),
    ];
    for (label, value) in labelled {
        if let Some(value) = value {
            notes.push(format!("{label}: {value}"));
        }
    }
    if let Some(at) = failure.statement.as_ref().and_then(|s| s.error_at) {
        notes.push(format!(
            "position: line {}, column {} (where the database points)",
            at.line, at.column
        ));
    }
    if failure.statement.is_none() {
        notes.push(
            "note: the database did not say which statement failed; the line is the section's marker"
                .to_owned(),
        );
    }
    Problem {
        message: format!(
            "revision {id} failed while {verb}{place}: {}",
            failure.message
        ),
        location: Some(Location {
            path: path.into(),
            line: Some(line),
            statement: failure.statement,
        }),
        notes,
    }
}

impl From<revise_runtime::DbError> for CliError {
    fn from(error: revise_runtime::DbError) -> Self {
        Self::failed(error.to_string())
    }
}

impl From<revise_runtime::backend::database::AdminError> for CliError {
    fn from(error: revise_runtime::backend::database::AdminError) -> Self {
        if error.is_bad_input() {
            Self::bad_input(error.to_string())
        } else {
            Self::failed(error.to_string())
        }
    }
}
