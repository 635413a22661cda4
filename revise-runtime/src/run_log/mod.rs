//! The run log (SPEC section 10): one row per step beside `alembic_version`, saying what ran,
//! when, for how long, by whom, with which file, and how it ended.
//!
//! `alembic_version` stays exactly Alembic's; the log is a table of its own (`revise_log` by
//! default), written in the same transaction as the step's version change, so a committed
//! step always has its row. Where a step cannot roll back (MySQL/MariaDB, whose DDL commits
//! implicitly, and `transaction=false` sections anywhere), the row is written *unfinished*
//! before the step and completed after it: a row left unfinished means a run died inside
//! the step, and the next run refuses until `cargo revise repair` marks it resolved.
//!
//! This module holds what the log means: its table name, the entries a step writes, the
//! records read back, drift and the revisions whose files are gone. The SQL lives with the
//! backends (`backend/log_sql.rs`), and the migrator decides when to write.

mod drift;
mod ghost;

use std::fmt;

pub use drift::{drift, DriftRecords, DriftReport, DriftedFile};
pub use ghost::{ghost_revisions, GhostError};

#[cfg(test)]
pub(crate) use drift::tests::record as drift_test_record;

use crate::backend::InvalidTableName;
use crate::checksum::Checksum;
use crate::revision::Section;

/// The log table's name (and PostgreSQL schema), checked to be plain identifiers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogTable {
    name: String,
    schema: Option<String>,
}

impl LogTable {
    /// The default name, `revise_log` (every table the tool keeps beside `alembic_version`
    /// starts with `revise_`).
    pub const DEFAULT_NAME: &'static str = "revise_log";

    /// Checks `name`: it is spliced into SQL, so only plain identifiers are allowed.
    pub fn new(name: &str) -> Result<Self, InvalidTableName> {
        crate::backend::check_identifier(name)?;
        Ok(Self {
            name: name.to_owned(),
            schema: None,
        })
    }

    /// Puts the table in a PostgreSQL schema (the version table's); other dialects ignore it.
    pub fn in_schema(mut self, schema: &str) -> Result<Self, InvalidTableName> {
        crate::backend::check_identifier(schema)?;
        self.schema = Some(schema.to_owned());
        Ok(self)
    }

    /// The unquoted name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The PostgreSQL schema, if one is configured.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }
}

impl Default for LogTable {
    fn default() -> Self {
        Self {
            name: Self::DEFAULT_NAME.to_owned(),
            schema: None,
        }
    }
}

/// What a log row records a step as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogDirection {
    /// The revision was applied.
    Up,
    /// The revision was reverted.
    Down,
    /// The version table was stamped to (or, for a stamp to `base`, away from) the revision.
    Stamp,
    /// `cargo revise accept`: the file's current checksum is the one to compare with.
    Accept,
}

impl LogDirection {
    /// The word stored in the `direction` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Stamp => "stamp",
            Self::Accept => "accept",
        }
    }

    /// How a file's recorded checksum came to be, for messages: `applied`, `stamped` or
    /// `accepted` (a `down` records none).
    pub fn recorded_as(self) -> &'static str {
        match self {
            Self::Stamp => "stamped",
            Self::Accept => "accepted",
            Self::Up | Self::Down => "applied",
        }
    }

    /// Reads the stored word.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "up" => Self::Up,
            "down" => Self::Down,
            "stamp" => Self::Stamp,
            "accept" => Self::Accept,
            _ => return None,
        })
    }

    /// Whether a successful row of this kind says "the file, as it was then, is applied":
    /// the rows drift compares with and the down sections come from.
    pub fn records_applied_file(self) -> bool {
        matches!(self, Self::Up | Self::Stamp | Self::Accept)
    }
}

impl fmt::Display for LogDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one log row says about a revision, as the migrator hands it to a backend; the
/// backend adds the times, the outcome and who ran it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The revision id.
    pub revision: String,
    /// The member (branch label) it belongs to.
    pub member: String,
    /// What the step did.
    pub direction: LogDirection,
    /// The file's checksum; `None` for a stamp that took the revision away (to `base`).
    pub checksum: Option<Checksum>,
    /// The file, relative to the workspace root.
    pub path: String,
    /// The revision's message.
    pub message: String,
    /// Its `Revises` ids, as they were.
    pub revises: Vec<String>,
    /// Its dependencies (resolved ids), as they were.
    pub depends_on: Vec<String>,
    /// Its down section, as it was (`None`: irreversible).
    pub down: Option<KeptSection>,
}

/// A down section as the log keeps it, so a revision whose file is gone can still be reverted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptSection {
    /// The SQL.
    pub sql: String,
    /// False for `-- revise:down transaction=false`.
    pub transactional: bool,
}

impl From<&Section> for KeptSection {
    fn from(section: &Section) -> Self {
        Self {
            sql: section.sql.clone(),
            transactional: section.transactional,
        }
    }
}

/// Who and what writes log rows: the tool and its version, the user and the host. Taken
/// once per migrator, written into every row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogAuthor {
    /// The tool and its version (`cargo-revise 0.1.0`, or `revise-runtime 0.1.0` in an
    /// application).
    pub tool: String,
    /// The operating-system user (`USER`, `USERNAME` or `LOGNAME`), empty when unknown.
    pub user: String,
    /// The machine's host name, empty when unknown.
    pub host: String,
}

impl LogAuthor {
    /// The user and host of this process, writing as `tool`.
    pub fn of_this_process(tool: impl Into<String>) -> Self {
        let user = ["USER", "USERNAME", "LOGNAME"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
            .unwrap_or_default();
        Self {
            tool: tool.into(),
            user,
            host: host_name(),
        }
    }
}

impl Default for LogAuthor {
    fn default() -> Self {
        Self::of_this_process(concat!("revise-runtime ", env!("CARGO_PKG_VERSION")))
    }
}

#[cfg(unix)]
fn host_name() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

#[cfg(not(unix))]
fn host_name() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_default()
}

/// How a logged step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogOutcome {
    /// It committed.
    Succeeded,
    /// It failed (or was interrupted and then marked resolved by `repair`).
    Failed,
    /// It started and never finished: the process died inside a step that could not roll
    /// back. Blocks runs until repaired.
    Unfinished,
}

impl LogOutcome {
    /// `ok`, `failed` or `unfinished`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "ok",
            Self::Failed => "failed",
            Self::Unfinished => "unfinished",
        }
    }
}

/// One row read back from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// The row's id: increasing, so newer rows have larger ids.
    pub id: i64,
    /// The revision id.
    pub revision: String,
    /// Its member.
    pub member: String,
    /// What the step did.
    pub direction: LogDirection,
    /// The file's checksum then, when there was a file.
    pub checksum: Option<Checksum>,
    /// The file, relative to the workspace root.
    pub path: String,
    /// The revision's message.
    pub message: String,
    /// Its `Revises` ids then.
    pub revises: Vec<String>,
    /// Its dependencies then.
    pub depends_on: Vec<String>,
    /// Its down section then.
    pub down: Option<KeptSection>,
    /// When the step started (UTC, `YYYY-MM-DD HH:MM:SS[.ffffff]`).
    pub started_at: String,
    /// When it ended (UTC); `None` while unfinished.
    pub finished_at: Option<String>,
    /// How long it took, in milliseconds; `None` while unfinished.
    pub duration_ms: Option<i64>,
    /// How it ended.
    pub outcome: LogOutcome,
    /// The database's message when it failed.
    pub error: Option<String>,
    /// The tool and its version.
    pub tool: String,
    /// The user.
    pub user: String,
    /// The host.
    pub host: String,
}

impl LogRecord {
    /// The start time to the second (`YYYY-MM-DD HH:MM:SS UTC`), for messages.
    pub fn started_at_seconds(&self) -> String {
        let seconds: String = self.started_at.chars().take(19).collect();
        format!("{seconds} UTC")
    }

    /// `user@host`, or what of it is known.
    pub fn author(&self) -> String {
        match (self.user.is_empty(), self.host.is_empty()) {
            (false, false) => format!("{}@{}", self.user, self.host),
            (false, true) => self.user.clone(),
            (true, false) => self.host.clone(),
            (true, true) => "unknown".to_owned(),
        }
    }
}

/// What drift compares with: a checksum the log recorded for a revision (a successful
/// `up`, `stamp` or `accept`), read in id order, so the last one of a revision is its newest.
/// Kept to the two things compared: `check` reads one per applied revision, 10,000 of them;
/// when and how a drifted file's checksum was recorded is read afterwards, for that revision
/// alone ([`LogSelect::AppliedOf`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedChecksum {
    /// The revision id.
    pub revision: String,
    /// The checksum.
    pub checksum: Checksum,
}

/// What drift and the refusal of unfinished steps need from the log, read in one scan of it
/// (`check` at 10,000 logged revisions spends most of its log time scanning).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogChecks {
    /// The recorded checksums, oldest first.
    pub applied: Vec<RecordedChecksum>,
    /// Steps a dead run left unfinished, oldest first.
    pub unfinished: Vec<LogRecord>,
}

/// Which rows to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogSelect<'a> {
    /// The unfinished rows, oldest first.
    Unfinished,
    /// For each revision, its newest successful `up`, `stamp` or `accept` row that has a
    /// checksum: what drift compares with, and where a missing file's down section is kept.
    Applied,
    /// [`LogSelect::Applied`] for these revisions only.
    AppliedOf(&'a [&'a str]),
    /// The newest rows first, at most this many (`None`: all).
    Newest(Option<usize>),
}

/// A step's writing of the log, as [`crate::backend::StepWork`] carries it.
#[derive(Clone, Copy, Debug)]
pub struct StepLog<'a> {
    /// The table.
    pub table: &'a LogTable,
    /// One row per entry (a stamp of several revisions writes several).
    pub entries: &'a [LogEntry],
    /// Who writes.
    pub author: &'a LogAuthor,
    /// Whether the table is known to exist; when not, the step creates it.
    pub exists: bool,
    /// Whether the step must first make sure no unfinished row is left (the first step of a
    /// run, under the lock that keeps other runs out).
    pub check_unfinished: bool,
}
