//! How each database of a fleet run ended, and the summary document: what `--format json`
//! prints, what the summary file holds, and what `--retry` reads back.

use serde::{Deserialize, Serialize};

/// The one status a database ends in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DbStatus {
    /// One or more revisions were applied (or reverted, or the rows stamped).
    Migrated,
    /// Nothing to do.
    UpToDate,
    /// Revisions are pending (`current`, `check`).
    Behind,
    /// What would run was listed (`--plan`).
    Planned,
    /// A revision, or the database, failed.
    Failed,
    /// The database could not be reached: connection, authentication, a missing schema.
    Unreachable,
    /// Another run held the database's lock past `--lock-timeout`.
    Locked,
    /// Not started: the canary failed, `--fail-fast`, `--max-failures`, or Ctrl-C.
    Skipped,
    /// Stopped at a revision boundary short of the target (Ctrl-C, `--fail-fast`).
    Interrupted,
}

impl DbStatus {
    /// Every status, in the order the totals list them.
    pub const ALL: [DbStatus; 9] = [
        Self::Migrated,
        Self::UpToDate,
        Self::Behind,
        Self::Planned,
        Self::Failed,
        Self::Unreachable,
        Self::Locked,
        Self::Skipped,
        Self::Interrupted,
    ];

    /// The name used in JSON and in lines (`up_to_date`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Migrated => "migrated",
            Self::UpToDate => "up_to_date",
            Self::Behind => "behind",
            Self::Planned => "planned",
            Self::Failed => "failed",
            Self::Unreachable => "unreachable",
            Self::Locked => "locked",
            Self::Skipped => "skipped",
            Self::Interrupted => "interrupted",
        }
    }

    /// Migrated or up to date: what `--retry` leaves out.
    pub fn finished(self) -> bool {
        matches!(self, Self::Migrated | Self::UpToDate)
    }

    /// Migrated, up to date or planned: the statuses of a run that exits 0.
    pub fn success(self) -> bool {
        self.finished() || self == Self::Planned
    }

    /// Failed, unreachable or locked: what `--max-failures` counts.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::Unreachable | Self::Locked)
    }
}

/// One revision a database's run applied (or reverted), with how long it took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedRevision {
    /// The revision id.
    pub id: String,
    /// Its duration in milliseconds.
    pub duration_ms: u64,
}

/// Why a database did not finish: the revision, its file and line when a revision failed,
/// and the database's message (never a password).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbFailure {
    /// The revision that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Its file, relative to the workspace root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The line of the statement that failed (of its section when it cannot be told).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The database's error code, where the driver gives it (MySQL's number and SQLSTATE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What happened.
    pub message: String,
}

/// How one database ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbRecord {
    /// The entry's id.
    pub id: String,
    /// Its fleet.
    pub fleet: String,
    /// How it ended.
    pub status: DbStatus,
    /// `sqlite`, `postgresql` or `mysql`.
    pub backend: String,
    /// Its URL, password hidden.
    pub url: String,
    /// Its PostgreSQL schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The version rows before (`null` when they could not be read).
    pub rows_before: Option<Vec<String>>,
    /// The version rows after (`null` when unknown).
    pub rows_after: Option<Vec<String>>,
    /// What the run applied or reverted, in order.
    pub applied: Vec<AppliedRevision>,
    /// What is pending (`current`, `check`) or would run (`--plan`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
    /// Why it did not finish, or why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<DbFailure>,
    /// How long its run took, in milliseconds.
    pub duration_ms: u64,
}

impl DbRecord {
    /// A record for `entry` with `status` and nothing else known yet.
    pub fn new(entry: &super::FleetEntry, status: DbStatus) -> Self {
        Self {
            id: entry.id.clone(),
            fleet: entry.fleet.to_string(),
            status,
            backend: entry.url.dialect().name().to_owned(),
            url: entry.url.to_string(),
            schema: entry.schema.clone(),
            rows_before: None,
            rows_after: None,
            applied: Vec::new(),
            pending: Vec::new(),
            error: None,
            duration_ms: 0,
        }
    }

    /// Sets the error message (a skip's reason, say).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.error = Some(DbFailure {
            message: message.into(),
            ..DbFailure::default()
        });
        self
    }
}

/// A count per status, and the number of databases.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Every database of the run.
    pub databases: usize,
    /// `migrated`.
    pub migrated: usize,
    /// `up_to_date`.
    pub up_to_date: usize,
    /// `behind`.
    pub behind: usize,
    /// `planned`.
    pub planned: usize,
    /// `failed`.
    pub failed: usize,
    /// `unreachable`.
    pub unreachable: usize,
    /// `locked`.
    pub locked: usize,
    /// `skipped`.
    pub skipped: usize,
    /// `interrupted`.
    pub interrupted: usize,
}

impl Totals {
    /// Counts `statuses`.
    pub fn count(statuses: impl IntoIterator<Item = DbStatus>) -> Self {
        let mut totals = Self::default();
        for status in statuses {
            totals.add(status);
        }
        totals
    }

    /// Counts one more database.
    pub fn add(&mut self, status: DbStatus) {
        self.databases += 1;
        *self.slot(status) += 1;
    }

    /// The count of `status`.
    pub fn of(&self, status: DbStatus) -> usize {
        let mut copy = self.clone();
        *copy.slot(status)
    }

    fn slot(&mut self, status: DbStatus) -> &mut usize {
        match status {
            DbStatus::Migrated => &mut self.migrated,
            DbStatus::UpToDate => &mut self.up_to_date,
            DbStatus::Behind => &mut self.behind,
            DbStatus::Planned => &mut self.planned,
            DbStatus::Failed => &mut self.failed,
            DbStatus::Unreachable => &mut self.unreachable,
            DbStatus::Locked => &mut self.locked,
            DbStatus::Skipped => &mut self.skipped,
            DbStatus::Interrupted => &mut self.interrupted,
        }
    }
}

/// The summary of a fleet run: `--format json`, the summary file, what `--retry` reads.
/// Records are in fleet order (the order of `--fleet`, then each source's), not the order
/// they finished in, so two runs can be compared line by line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetSummary {
    /// The document's version.
    pub schema_version: u32,
    /// `up`, `down`, `stamp`, `current` or `check`.
    pub command: String,
    /// The revision target (`heads`, ...), if the command has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Whether this was a `--plan`.
    #[serde(default)]
    pub plan: bool,
    /// The fleets, in the order run.
    pub fleets: Vec<String>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// `--jobs`.
    pub jobs: usize,
    /// `--per-host`.
    pub per_host: usize,
    /// Whether a signal interrupted the run.
    #[serde(default)]
    pub interrupted_by_signal: bool,
    /// A count per status.
    pub totals: Totals,
    /// One record per database, in fleet order.
    pub databases: Vec<DbRecord>,
}

impl FleetSummary {
    /// True when every database ended migrated, up to date or planned.
    pub fn success(&self) -> bool {
        self.databases.iter().all(|r| r.status.success())
    }

    /// The records that did not end migrated, up to date or planned, by status then id.
    pub fn not_done(&self) -> Vec<&DbRecord> {
        let mut records: Vec<&DbRecord> = self
            .databases
            .iter()
            .filter(|r| !r.status.success())
            .collect();
        records.sort_by(|a, b| (a.status, &a.id).cmp(&(b.status, &b.id)));
        records
    }
}

/// Now, as RFC 3339 in UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_count_each_status() {
        let totals = Totals::count([
            DbStatus::Migrated,
            DbStatus::Migrated,
            DbStatus::Failed,
            DbStatus::Skipped,
        ]);
        assert_eq!(totals.databases, 4);
        assert_eq!(totals.of(DbStatus::Migrated), 2);
        assert_eq!(totals.of(DbStatus::Failed), 1);
        assert_eq!(totals.of(DbStatus::UpToDate), 0);
        let json = serde_json::to_value(&totals).expect("json");
        assert_eq!(json["skipped"], 1);
        assert_eq!(
            serde_json::to_value(DbStatus::UpToDate).expect("json"),
            "up_to_date"
        );
    }
}
