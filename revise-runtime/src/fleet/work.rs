//! One database's part of a fleet run: connect (within the connect timeout, into the entry's
//! schema), run the ordinary [`Migrator`] with a reporter that records what it applied, and
//! describe how it ended as a [`DbRecord`]. Nothing of the run is kept but that record.

use std::time::{Duration, Instant};

use super::entry::FleetEntry;
use super::graphs::FleetGraphs;
use super::outcome::{AppliedRevision, DbFailure, DbRecord, DbStatus};
use crate::backend::{
    connect_within, DatabaseConnection, DatabaseUrl, DbError, Dialect, VersionTable,
};
use crate::graph::{NodeSet, RevisionGraph};
use crate::migrator::{MigrateError, Migrator};
use crate::plan::{self, PlanError};
use crate::report::{Reporter, RunEvent};
use crate::target::Target;

/// What a fleet run does on each database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `up TARGET`.
    Up(String),
    /// `down TARGET`.
    Down(String),
    /// `stamp REV...` (`--purge` first empties the table).
    Stamp {
        /// Where the rows should stand.
        targets: Vec<String>,
        /// Empty the table first.
        purge: bool,
    },
    /// `current`: the rows, and whether revisions are pending.
    Current,
    /// `check`: the same, read as a verdict.
    Check,
}

impl Operation {
    /// The command's name, as the summary records it.
    pub fn command(&self) -> &'static str {
        match self {
            Self::Up(_) => "up",
            Self::Down(_) => "down",
            Self::Stamp { .. } => "stamp",
            Self::Current => "current",
            Self::Check => "check",
        }
    }

    /// The revision target, as written.
    pub fn target(&self) -> Option<String> {
        match self {
            Self::Up(target) | Self::Down(target) => Some(target.clone()),
            Self::Stamp { targets, .. } => Some(targets.join(" ")),
            Self::Current | Self::Check => None,
        }
    }

    /// Whether it changes databases (`up`, `down`, `stamp`): those have a canary and write
    /// the summary file, unless they only plan.
    pub fn changes_databases(&self) -> bool {
        matches!(self, Self::Up(_) | Self::Down(_) | Self::Stamp { .. })
    }
}

/// Everything one database's run needs, shared by the workers.
#[derive(Debug)]
pub struct DatabaseWork {
    /// The graph of each entry.
    pub graphs: FleetGraphs,
    /// What to do.
    pub operation: Operation,
    /// Only say what would run (`--plan`): nothing is written, no version table created.
    pub plan: bool,
    /// The configured version table (an entry's schema replaces its schema).
    pub version_table: VersionTable,
    /// `--lock-timeout`.
    pub lock_timeout: Duration,
    /// `--connect-timeout`.
    pub connect_timeout: Duration,
}

/// How opening a database went.
enum Opened {
    Connection(DatabaseConnection),
    /// A read-only look at a database that does not exist yet (a SQLite file, a schema that
    /// `create_schema` would create): no rows.
    Missing,
}

impl DatabaseWork {
    /// Runs the operation on `entry`, reporting the migrator's events to `reporter`.
    pub fn run(&self, entry: &FleetEntry, reporter: &mut dyn Reporter) -> DbRecord {
        let started = Instant::now();
        let mut record = DbRecord::new(entry, DbStatus::Failed);
        let graph = self.graphs.for_entry(entry);
        let table = match &entry.schema {
            Some(schema) => self
                .version_table
                .clone()
                .in_schema(schema)
                .unwrap_or_else(|_| self.version_table.clone()),
            None => self.version_table.clone(),
        };
        let migrator = Migrator::new(graph)
            .with_version_table(table)
            .with_lock_timeout(self.lock_timeout);
        match self.open(entry) {
            Ok(Opened::Connection(mut conn)) => {
                self.run_on(&migrator, &mut conn, reporter, &mut record);
            }
            Ok(Opened::Missing) => self.run_on_nothing(graph, &mut record),
            Err(e) => {
                record.status = DbStatus::Unreachable;
                record.error = Some(DbFailure {
                    message: e.to_string(),
                    ..DbFailure::default()
                });
            }
        }
        record.duration_ms = millis(started.elapsed());
        scrub(&mut record, &entry.url);
        record
    }

    fn read_only(&self) -> bool {
        self.plan || !self.operation.changes_databases()
    }

    /// Connects, and for a schema entry checks (or creates) the schema and makes it the
    /// search path. A read-only look never creates anything.
    fn open(&self, entry: &FleetEntry) -> Result<Opened, DbError> {
        if self.read_only() {
            if let DatabaseUrl::Sqlite { path } = &entry.url {
                if !path.exists() {
                    return Ok(Opened::Missing);
                }
            }
        }
        let mut conn = connect_within(&entry.url, self.connect_timeout)?;
        let Some(schema) = &entry.schema else {
            return Ok(Opened::Connection(conn));
        };
        if entry.url.dialect() != Dialect::Postgres {
            return Err(DbError::new(
                format!("using schema `{schema}`"),
                "schemas are a PostgreSQL feature",
            ));
        }
        let found = conn.query_strings(
            "SELECT nspname::text AS version_num FROM pg_namespace WHERE nspname = $1",
            &[schema],
        )?;
        // Identifiers are checked plain (`VersionTable::in_schema`), so quoting suffices.
        let quoted = format!("\"{schema}\"");
        if found.is_empty() {
            match (entry.create_schema, self.read_only()) {
                (true, true) => return Ok(Opened::Missing),
                (true, false) => conn.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}"))?,
                (false, _) => {
                    return Err(DbError::new(
                        format!("opening {}", entry.url),
                        format!("schema \"{schema}\" does not exist; create it, or set `create_schema = true` on fleet `{}`", entry.fleet),
                    ))
                }
            }
        }
        conn.batch_execute(&format!("SET search_path TO {quoted}"))?;
        Ok(Opened::Connection(conn))
    }

    fn run_on(
        &self,
        migrator: &Migrator<'_>,
        conn: &mut DatabaseConnection,
        reporter: &mut dyn Reporter,
        record: &mut DbRecord,
    ) {
        let graph = migrator.graph();
        if self.read_only() {
            match migrator.current(conn) {
                Ok(rows) => self.look(graph, &rows, record),
                Err(e) => fail(record, e),
            }
            return;
        }
        let mut recording = Recording {
            inner: reporter,
            applied: Vec::new(),
            rows_before: None,
            rows_now: None,
        };
        let result = match &self.operation {
            Operation::Up(target) => migrator.upgrade_with(conn, target, &mut recording),
            Operation::Down(target) => migrator.downgrade_with(conn, target, &mut recording),
            Operation::Stamp { targets, purge } => {
                let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
                migrator.stamp(conn, &targets, *purge)
            }
            Operation::Current | Operation::Check => unreachable!("read-only"),
        };
        record.applied = recording.applied;
        record.rows_before = recording.rows_before;
        match result {
            Ok(outcome) => {
                record.rows_before = Some(ids(graph, &outcome.rows_before));
                record.rows_after = Some(ids(graph, &outcome.rows_after));
                let moved = !outcome.steps.is_empty() || outcome.rows_before != outcome.rows_after;
                record.status = if moved {
                    DbStatus::Migrated
                } else {
                    DbStatus::UpToDate
                };
            }
            Err(MigrateError::Interrupted { rows, .. }) => {
                record.status = DbStatus::Interrupted;
                record.rows_after = Some(rows);
                record.error = Some(DbFailure {
                    message: "stopped at a revision boundary before reaching the target".to_owned(),
                    ..DbFailure::default()
                });
            }
            Err(e) => {
                record.rows_after = recording.rows_now;
                fail(record, e);
            }
        }
    }

    /// `current`, `check` and `--plan`: the rows, and what is pending or would run.
    fn look(&self, graph: &RevisionGraph, rows: &NodeSet, record: &mut DbRecord) {
        record.rows_before = Some(ids(graph, rows));
        match self.pending(graph, rows) {
            Ok((pending, after)) => {
                record.rows_after = Some(ids(graph, &after));
                record.pending = pending;
                record.status = if self.plan {
                    DbStatus::Planned
                } else if record.pending.is_empty() {
                    DbStatus::UpToDate
                } else {
                    DbStatus::Behind
                };
            }
            Err(e) => fail(record, MigrateError::Plan(e)),
        }
    }

    /// A read-only look at a database that does not exist yet.
    fn run_on_nothing(&self, graph: &RevisionGraph, record: &mut DbRecord) {
        self.look(graph, &NodeSet::new(), record);
    }

    /// What would run (or, for `current`/`check`, what `up` would apply), and the rows after.
    fn pending(
        &self,
        graph: &RevisionGraph,
        rows: &NodeSet,
    ) -> Result<(Vec<String>, NodeSet), PlanError> {
        let steps = |plan: plan::Plan| -> Vec<String> {
            plan.steps
                .iter()
                .map(|s| graph.id(s.node).to_owned())
                .collect()
        };
        match &self.operation {
            Operation::Up(target) => {
                let goal = plan::upgrade_goal(graph, rows, &Target::parse(target)?, target)?;
                let plan = plan::plan_upgrade(graph, rows, &goal);
                let rows_after = rows_after(rows, &plan);
                Ok((steps(plan), rows_after))
            }
            Operation::Down(target) => {
                let goal = plan::downgrade_goal(graph, rows, &Target::parse(target)?, target)?;
                let plan = plan::plan_downgrade(graph, rows, &goal)?;
                let rows_after = rows_after(rows, &plan);
                Ok((steps(plan), rows_after))
            }
            Operation::Stamp { targets, purge } => {
                let mut destinations = Vec::new();
                for written in targets {
                    let parsed = Target::parse(written)?;
                    destinations.extend(plan::stamp_destinations(graph, &parsed, written)?);
                }
                let start = if *purge { NodeSet::new() } else { rows.clone() };
                let (_, rows_after) = plan::plan_stamp(graph, &start, &destinations)?;
                Ok((Vec::new(), rows_after))
            }
            Operation::Current | Operation::Check => {
                let goal = plan::upgrade_goal(graph, rows, &Target::Heads, "heads")?;
                let plan = plan::plan_upgrade(graph, rows, &goal);
                Ok((steps(plan), rows.clone()))
            }
        }
    }
}

/// The rows after running `plan` from `rows`.
fn rows_after(rows: &NodeSet, plan: &plan::Plan) -> NodeSet {
    let mut after = rows.clone();
    for step in &plan.steps {
        crate::version_rows::apply_changes(&mut after, &step.changes);
    }
    after
}

/// Fills in a failure from the migrator's error.
fn fail(record: &mut DbRecord, error: MigrateError) {
    record.status = match error {
        MigrateError::LockTimeout(_) => DbStatus::Locked,
        _ => DbStatus::Failed,
    };
    record.error = Some(match error {
        MigrateError::StepFailed {
            id,
            path,
            line,
            failure,
            ..
        } => DbFailure {
            revision: Some(id),
            file: Some(path),
            line: Some(line),
            code: failure.code.clone(),
            message: failure.to_string(),
        },
        other => DbFailure {
            message: other.to_string(),
            ..DbFailure::default()
        },
    });
}

/// Row ids, sorted.
fn ids(graph: &RevisionGraph, rows: &NodeSet) -> Vec<String> {
    let mut ids: Vec<String> = rows.iter().map(|&n| graph.id(n).to_owned()).collect();
    ids.sort_unstable();
    ids
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Drivers may echo what they were given; a password must appear nowhere, so any
/// occurrence of the entry's password in the record's text is replaced. (Passwords
/// shorter than four characters would match ordinary words; URLs themselves are always
/// shown redacted.)
fn scrub(record: &mut DbRecord, url: &DatabaseUrl) {
    let Some(password) = url.password().filter(|p| p.len() >= 4) else {
        return;
    };
    if let Some(error) = &mut record.error {
        error.message = error.message.replace(&password, "***");
    }
    record.url = record.url.replace(&password, "***");
}

/// Forwards the migrator's events and keeps what the record needs: the rows at the start,
/// the rows last reported, and each applied revision with its duration.
struct Recording<'a> {
    inner: &'a mut dyn Reporter,
    applied: Vec<AppliedRevision>,
    rows_before: Option<Vec<String>>,
    rows_now: Option<Vec<String>>,
}

impl Reporter for Recording<'_> {
    fn report(&mut self, event: &RunEvent) {
        match event {
            RunEvent::Current { rows } => {
                self.rows_before = Some(rows.clone());
                self.rows_now = Some(rows.clone());
            }
            RunEvent::StepFinished {
                revision, elapsed, ..
            } => self.applied.push(AppliedRevision {
                id: revision.id.clone(),
                duration_ms: millis(*elapsed),
            }),
            RunEvent::Replanned { rows, .. }
            | RunEvent::Completed { rows, .. }
            | RunEvent::Failed { rows, .. } => self.rows_now = Some(rows.clone()),
            _ => {}
        }
        self.inner.report(event);
    }

    fn stop_requested(&mut self) -> bool {
        self.inner.stop_requested()
    }
}
