//! The choreography of a run: read the rows, plan, and run each step with its row changes in
//! one transaction, re-planning if another run moved the database meanwhile.
//!
//! The migrator prints nothing; it emits [`RunEvent`]s to a [`Reporter`].

use std::time::{Duration, Instant};

use crate::backend::{DbError, StepError, StepWork, VersionChange, VersionStore, VersionTable};
use crate::failure::SqlFailure;
use crate::graph::{Node, NodeSet, RevisionGraph};
use crate::plan::{self, DowngradeGoal, Plan, PlanError, UpgradeGoal};
use crate::report::{PlainReport, Reporter, RevisionSummary, RunEvent};
use crate::revision::{shown_line, Revision};
use crate::run_log::{
    KeptSection, LogAuthor, LogChecks, LogDirection, LogEntry, LogRecord, LogSelect, LogTable,
    StepLog,
};
use crate::target::Target;
use crate::version_rows::{Direction, RowChange};

mod log_commands;

pub use log_commands::Accepted;

/// Why a run did not complete.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The target or the plan is invalid; nothing was touched.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The version table names a revision that no file defines.
    #[error("Can't locate revision identified by '{id}': the version table `{table}` names it, but no revision file declares it; restore the file, or run `cargo revise stamp <REV> --purge` to reset the table")]
    UnknownRevision {
        /// The unknown id.
        id: String,
        /// The version table.
        table: String,
    },
    /// The database failed outside a revision's own SQL.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Another run, or another connection's transaction, held the lock for too long.
    #[error("gave up waiting for another migration run after {0:?} (the lock timeout): the database stayed locked, by another run or another connection's transaction; raise --lock-timeout (Migrator::with_lock_timeout in an application) or check for a stuck process")]
    LockTimeout(Duration),
    /// The reporter asked the run to stop ([`Reporter::stop_requested`]); it stopped between
    /// two revisions, each applied one committed.
    #[error("stopped on request at a revision boundary after {applied} revision(s); the database stands at {}", if rows.is_empty() { "base".to_owned() } else { rows.join(", ") })]
    Interrupted {
        /// How many revisions this run applied or reverted before it stopped.
        applied: usize,
        /// The rows where it stopped.
        rows: Vec<String>,
    },
    /// A revision's SQL failed.
    #[error("revision {id} ({path}:{line}) failed while {verb}{at}: {failure}", at = statement_place(failure))]
    StepFailed {
        /// The revision.
        id: String,
        /// Its file.
        path: String,
        /// The line of the statement that failed, or of the section's marker when the
        /// statement could not be told.
        line: usize,
        /// `upgrading` or `downgrading`.
        verb: &'static str,
        /// What the database said, and which statement failed.
        failure: Box<SqlFailure>,
    },
    /// The run log holds steps a run started and never finished: it died inside a step that
    /// could not roll back, so the database may hold part of it. Nothing ran.
    #[error("{}; check what they may have left in the database, then run `cargo revise repair {}` to mark {} resolved (the version table was not moved: the next `up` runs the revision again, or `cargo revise stamp` past it)", .steps.join("; "), .revisions.join(" "), if .steps.len() == 1 { "it" } else { "them" })]
    Unfinished {
        /// One sentence per unfinished step: the revision, when and by whom it started, the
        /// statements that may have run.
        steps: Vec<String>,
        /// The revisions, for the command that resolves them.
        revisions: Vec<String>,
    },
    /// `accept` or `repair` was asked for something it cannot do; nothing was written.
    #[error("{0}")]
    Refused(String),
}

/// ", statement 3 of 10" when the statement is known.
fn statement_place(failure: &SqlFailure) -> String {
    failure
        .statement
        .as_ref()
        .map(|s| format!(", statement {} of {}", s.number, s.count))
        .unwrap_or_default()
}

impl MigrateError {
    /// True when the input was at fault (bad target), not the database: exit status 2.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::Plan(_))
    }
}

/// What a completed run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The rows before the run.
    pub rows_before: NodeSet,
    /// The revisions applied or reverted, in order.
    pub steps: Vec<Node>,
    /// The rows after the run.
    pub rows_after: NodeSet,
}

/// What a [`Migrator`] runs: a [`RevisionGraph`], or the [`EmbeddedRevisions`] of
/// `include_revisions!`, which also bring the workspace's table settings.
///
/// [`EmbeddedRevisions`]: crate::EmbeddedRevisions
pub trait RevisionSet {
    /// The validated graph.
    fn revision_graph(&self) -> &RevisionGraph;

    /// The workspace settings `build.rs` embedded, if these revisions were embedded.
    fn embedded_settings(&self) -> Option<&crate::embedded::EmbeddedSettings> {
        None
    }
}

impl RevisionSet for RevisionGraph {
    fn revision_graph(&self) -> &RevisionGraph {
        self
    }
}

impl RevisionSet for crate::EmbeddedRevisions {
    /// # Panics
    /// As the `Deref` to the graph: only if the generated code was edited by hand.
    fn revision_graph(&self) -> &RevisionGraph {
        self
    }

    fn embedded_settings(&self) -> Option<&crate::embedded::EmbeddedSettings> {
        Some(self.settings())
    }
}

/// Runs revisions of one graph against databases.
#[derive(Clone, Debug)]
pub struct Migrator<'g> {
    graph: &'g RevisionGraph,
    table: VersionTable,
    lock_timeout: Duration,
    log: Option<LogTable>,
    author: LogAuthor,
}

/// A resolved goal, kept so a run can re-plan after another process moved the rows.
enum Goal {
    Up(UpgradeGoal),
    Down(DowngradeGoal),
}

impl<'g> Migrator<'g> {
    /// A migrator over `revisions` using the table `alembic_version`, the run log
    /// `revise_log` and a 60 s lock timeout; embedded revisions bring the workspace's
    /// `version_table`, `version_table_schema` and `log_table` instead (as `cargo revise`
    /// reads them).
    pub fn new<R: RevisionSet + ?Sized>(revisions: &'g R) -> Self {
        let mut migrator = Self {
            graph: revisions.revision_graph(),
            table: VersionTable::default(),
            lock_timeout: Duration::from_secs(60),
            log: Some(LogTable::default()),
            author: LogAuthor::default(),
        };
        if let Some(settings) = revisions.embedded_settings() {
            // build.rs checked the names; a hand-written setting that is not valid keeps
            // the default rather than failing at start-up.
            let schema = settings.version_table_schema;
            if let Ok(table) = VersionTable::new(settings.version_table)
                .and_then(|t| schema.map_or(Ok(t.clone()), |s| t.in_schema(s)))
            {
                migrator.table = table;
            }
            migrator.log = match settings.log_table {
                None => None,
                Some(name) => LogTable::new(name)
                    .and_then(|t| schema.map_or(Ok(t.clone()), |s| t.in_schema(s)))
                    .ok()
                    .or_else(|| Some(LogTable::default())),
            };
        }
        migrator
    }

    /// Writes the run log into another table (`None`: no log at all, the
    /// `log_table = false` setting).
    pub fn with_log_table(mut self, log: Option<LogTable>) -> Self {
        self.log = log;
        self
    }

    /// Names the tool in the log's rows (an application may say its own name and version;
    /// the default is `revise-runtime` and its version).
    pub fn with_log_author(mut self, author: LogAuthor) -> Self {
        self.author = author;
        self
    }

    /// The run log's table, unless the log is off.
    pub fn log_table(&self) -> Option<&LogTable> {
        self.log.as_ref()
    }

    /// Uses another version table.
    pub fn with_version_table(mut self, table: VersionTable) -> Self {
        self.table = table;
        self
    }

    /// How long to wait for another run's lock before giving up.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The graph this migrator runs.
    pub fn graph(&self) -> &'g RevisionGraph {
        self.graph
    }

    /// The rows of the version table as revisions (empty when it does not exist).
    pub fn current(&self, conn: &mut dyn VersionStore) -> Result<NodeSet, MigrateError> {
        self.in_run(conn, |conn| self.read_current(conn))
    }

    fn read_current(&self, conn: &mut dyn VersionStore) -> Result<NodeSet, MigrateError> {
        let rows = conn.read_rows(&self.table)?.unwrap_or_default();
        self.nodes(&rows)
    }

    /// Runs `body` with the connection set up for a run ([`VersionStore::begin_run`]: on
    /// SQLite every statement waits up to the lock timeout), and puts the application's
    /// settings back on every way out.
    fn in_run<T>(
        &self,
        conn: &mut dyn VersionStore,
        body: impl FnOnce(&mut dyn VersionStore) -> Result<T, MigrateError>,
    ) -> Result<T, MigrateError> {
        let saved = conn.begin_run(self.lock_timeout)?;
        let result = body(conn);
        let restored = conn.end_run(saved);
        // The run's own error says more than a failed restore after it.
        let value = result?;
        restored?;
        Ok(value)
    }

    /// Turns ids read from the table into revisions, refusing ids no file declares.
    pub fn nodes(&self, rows: &[String]) -> Result<NodeSet, MigrateError> {
        rows.iter()
            .map(|id| {
                self.graph
                    .node(id)
                    .ok_or_else(|| MigrateError::UnknownRevision {
                        id: id.clone(),
                        table: self.table.name().to_owned(),
                    })
            })
            .collect()
    }

    /// Applies every revision up to the heads, printing the status report: the start-up
    /// call.
    pub fn run(&self, conn: &mut dyn VersionStore) -> Result<Outcome, MigrateError> {
        self.upgrade_with(conn, "heads", &mut PlainReport::stdout())
    }

    /// [`Migrator::run`] with your own reporter (for example one that logs).
    pub fn run_with(
        &self,
        conn: &mut dyn VersionStore,
        reporter: &mut dyn Reporter,
    ) -> Result<Outcome, MigrateError> {
        self.upgrade_with(conn, "heads", reporter)
    }

    /// Applies what `target` needs and the database lacks, printing the status report.
    pub fn upgrade(
        &self,
        conn: &mut dyn VersionStore,
        target: &str,
    ) -> Result<Outcome, MigrateError> {
        self.upgrade_with(conn, target, &mut PlainReport::stdout())
    }

    /// Reverts applied revisions down to `target`, printing the status report.
    pub fn downgrade(
        &self,
        conn: &mut dyn VersionStore,
        target: &str,
    ) -> Result<Outcome, MigrateError> {
        self.downgrade_with(conn, target, &mut PlainReport::stdout())
    }

    /// The revisions `run` would apply, in order.
    pub fn pending(&self, conn: &mut dyn VersionStore) -> Result<Vec<&'g Revision>, MigrateError> {
        let rows = self.current(conn)?;
        let goal = plan::upgrade_goal(self.graph, &rows, &Target::Heads, "heads")?;
        let plan = plan::plan_upgrade(self.graph, &rows, &goal);
        Ok(plan
            .steps
            .iter()
            .map(|s| self.graph.revision(s.node))
            .collect())
    }

    /// Applies what `target` needs and the database lacks (`cargo revise up TARGET`).
    pub fn upgrade_with(
        &self,
        conn: &mut dyn VersionStore,
        target: &str,
        reporter: &mut dyn Reporter,
    ) -> Result<Outcome, MigrateError> {
        let parsed = Target::parse(target).map_err(PlanError::from)?;
        self.in_run(conn, |conn| {
            self.execute(conn, reporter, |graph, rows| {
                Ok(Goal::Up(plan::upgrade_goal(graph, rows, &parsed, target)?))
            })
        })
    }

    /// Reverts applied revisions down to `target` (`cargo revise down TARGET`).
    pub fn downgrade_with(
        &self,
        conn: &mut dyn VersionStore,
        target: &str,
        reporter: &mut dyn Reporter,
    ) -> Result<Outcome, MigrateError> {
        let parsed = Target::parse(target).map_err(PlanError::from)?;
        self.in_run(conn, |conn| {
            self.execute(conn, reporter, |graph, rows| {
                Ok(Goal::Down(plan::downgrade_goal(
                    graph, rows, &parsed, target,
                )?))
            })
        })
    }

    /// Sets the version table to `targets` without running any revision (`cargo revise
    /// stamp`); `purge` empties the table first.
    pub fn stamp(
        &self,
        conn: &mut dyn VersionStore,
        targets: &[&str],
        purge: bool,
    ) -> Result<Outcome, MigrateError> {
        let mut destinations = Vec::new();
        for written in targets {
            let parsed = Target::parse(written).map_err(PlanError::from)?;
            destinations.extend(plan::stamp_destinations(self.graph, &parsed, written)?);
        }
        self.in_run(conn, |conn| self.stamp_rows(conn, &destinations, purge))
    }

    /// [`Migrator::stamp`] once the destinations are known.
    fn stamp_rows(
        &self,
        conn: &mut dyn VersionStore,
        destinations: &[plan::StampDestination],
        purge: bool,
    ) -> Result<Outcome, MigrateError> {
        let _lock = conn
            .lock(&self.table, self.lock_timeout, &mut || {})
            .map_err(lock_error)?;
        let raw_rows = conn.read_rows(&self.table)?.unwrap_or_default();
        // A purge forgives rows that name unknown revisions: that is what it is for.
        let rows_before = if purge {
            NodeSet::new()
        } else {
            self.nodes(&raw_rows)?
        };
        let (changes, rows_after) = plan::plan_stamp(self.graph, &rows_before, destinations)?;
        let mut version_changes: Vec<VersionChange> = Vec::new();
        if purge {
            version_changes.extend(raw_rows.iter().cloned().map(VersionChange::Delete));
        }
        version_changes.extend(self.version_changes(&changes));
        let entries = self.stamp_entries(&rows_before, destinations, &rows_after);
        let log_exists = self.log_exists(conn)?;
        let work = StepWork {
            section: None,
            changes: &version_changes,
            expected_rows: &raw_rows,
            wait: true,
            // A stamp is the way past an unfinished step (after `repair`): it never refuses.
            log: self.step_log(&entries, log_exists, false),
        };
        conn.run_step(&self.table, work, self.lock_timeout)
            .map_err(|e| match e {
                StepError::Db(e) => MigrateError::Db(e),
                other => lock_error(other),
            })?;
        Ok(Outcome {
            rows_before,
            steps: Vec::new(),
            rows_after,
        })
    }

    /// One `stamp` row per revision stamped to, and one per revision a stamp to `base` took
    /// away (without a checksum: it says the revision is no longer applied).
    fn stamp_entries(
        &self,
        rows_before: &NodeSet,
        destinations: &[plan::StampDestination],
        rows_after: &NodeSet,
    ) -> Vec<LogEntry> {
        let mut entries = Vec::new();
        let mut to_base = false;
        for destination in destinations {
            match destination {
                plan::StampDestination::Revision { node, .. } => {
                    entries.push(self.log_entry(*node, LogDirection::Stamp));
                }
                plan::StampDestination::Base { .. } => to_base = true,
            }
        }
        if to_base {
            let still = self.graph.ancestors_inclusive(rows_after.iter().copied());
            let mut gone: Vec<Node> = rows_before
                .iter()
                .copied()
                .filter(|n| !still.contains(n))
                .collect();
            gone.sort_unstable();
            for node in gone {
                let mut entry = self.log_entry(node, LogDirection::Stamp);
                entry.checksum = None;
                entries.push(entry);
            }
        }
        entries
    }

    /// What the log records of `node` for a step in `direction`: its file as it is now.
    fn log_entry(&self, node: Node, direction: LogDirection) -> LogEntry {
        let revision = self.graph.revision(node);
        LogEntry {
            revision: revision.id.to_string(),
            member: revision.origin.member.to_string(),
            direction,
            checksum: Some(revision.checksum),
            path: revision.origin.path.display().to_string(),
            message: revision.message.to_string(),
            revises: self
                .graph
                .revises(node)
                .iter()
                .map(|&n| self.graph.id(n).to_owned())
                .collect(),
            depends_on: self
                .graph
                .depends_on(node)
                .iter()
                .map(|&n| self.graph.id(n).to_owned())
                .collect(),
            down: revision.down.as_ref().map(KeptSection::from),
        }
    }

    /// The log's part of a step.
    fn step_log<'a>(
        &'a self,
        entries: &'a [LogEntry],
        exists: bool,
        check_unfinished: bool,
    ) -> Option<StepLog<'a>> {
        self.log.as_ref().map(|table| StepLog {
            table,
            entries,
            author: &self.author,
            exists,
            check_unfinished,
        })
    }

    /// Whether the log table exists (false when the log is off).
    fn log_exists(&self, conn: &mut dyn VersionStore) -> Result<bool, MigrateError> {
        match &self.log {
            Some(table) => Ok(conn.read_log(table, LogSelect::Unfinished)?.is_some()),
            None => Ok(false),
        }
    }

    /// The log's rows, newest first (`limit`: at most that many); `None` when the log is
    /// off or its table does not exist yet.
    pub fn log_records(
        &self,
        conn: &mut dyn VersionStore,
        limit: Option<usize>,
    ) -> Result<Option<Vec<LogRecord>>, MigrateError> {
        match &self.log {
            Some(table) => Ok(conn.read_log(table, LogSelect::Newest(limit))?),
            None => Ok(None),
        }
    }

    /// Applies or reverts exactly one revision, with its row changes (the stairway test's
    /// step). Up needs the revision's parents applied and itself not; down needs it applied
    /// with nothing applied on top of it.
    pub fn step_one(
        &self,
        conn: &mut dyn VersionStore,
        node: Node,
        direction: Direction,
    ) -> Result<(), MigrateError> {
        self.in_run(conn, |conn| self.apply_one(conn, node, direction))
    }

    fn apply_one(
        &self,
        conn: &mut dyn VersionStore,
        node: Node,
        direction: Direction,
    ) -> Result<(), MigrateError> {
        let rows = self.read_current(conn)?;
        let applied = self.graph.ancestors_inclusive(rows.iter().copied());
        let id = self.graph.id(node);
        let refuse =
            |why: &str| MigrateError::Plan(PlanError::NotApplicable(format!("{id}: {why}")));
        match direction {
            Direction::Up if applied.contains(&node) => return Err(refuse("already applied")),
            Direction::Up if !self.graph.parents(node).iter().all(|p| applied.contains(p)) => {
                return Err(refuse("its parents are not all applied"))
            }
            Direction::Down if !applied.contains(&node) => return Err(refuse("not applied")),
            Direction::Down
                if self
                    .graph
                    .all_children(node)
                    .iter()
                    .any(|c| applied.contains(c)) =>
            {
                return Err(refuse("revisions built on it are applied"))
            }
            Direction::Down if self.graph.revision(node).down.is_none() => {
                return Err(refuse("it has no `-- revise:down` section"))
            }
            _ => {}
        }
        let changes = crate::version_rows::transition(self.graph, &rows, node, direction);
        let log_exists = self.log_exists(conn)?;
        let log = LogProgress {
            exists: log_exists,
            check_unfinished: log_exists,
        };
        match self.run_step(conn, node, direction, &changes, &rows, true, log) {
            Ok(()) => Ok(()),
            Err(StepError::LockTimeout(t)) => Err(MigrateError::LockTimeout(t)),
            Err(failure) => Err(self.failed(
                conn,
                node,
                direction,
                failure,
                &mut crate::report::SilentReport,
            )),
        }
    }

    fn plan(&self, goal: &Goal, rows: &NodeSet) -> Result<Plan, PlanError> {
        match goal {
            Goal::Up(goal) => Ok(plan::plan_upgrade(self.graph, rows, goal)),
            Goal::Down(goal) => plan::plan_downgrade(self.graph, rows, goal),
        }
    }

    fn execute(
        &self,
        conn: &mut dyn VersionStore,
        reporter: &mut dyn Reporter,
        resolve: impl FnOnce(&RevisionGraph, &NodeSet) -> Result<Goal, PlanError>,
    ) -> Result<Outcome, MigrateError> {
        reporter.report(&RunEvent::Checking);
        let lock = conn
            .lock(&self.table, self.lock_timeout, &mut || {
                reporter.report(&RunEvent::WaitingForLock)
            })
            .map_err(lock_error)?;
        // Read the rows only once the lock is held: another run may have just moved them.
        let mut rows = self.read_current(conn)?;
        let rows_before = rows.clone();
        reporter.report(&RunEvent::Current {
            rows: self.ids(&rows),
        });
        let goal = resolve(self.graph, &rows)?;
        let direction = match goal {
            Goal::Up(_) => Direction::Up,
            Goal::Down(_) => Direction::Down,
        };
        let mut log = self.start_log(conn, &rows, direction, lock.is_run_wide(), reporter)?;
        let mut plan = self.plan(&goal, &rows)?;
        if plan.steps.is_empty() {
            reporter.report(&RunEvent::NothingToRun { direction });
            return Ok(Outcome {
                rows_before,
                steps: Vec::new(),
                rows_after: rows,
            });
        }
        reporter.report(&RunEvent::Pending {
            direction,
            revisions: plan.steps.iter().map(|s| self.summary(s.node)).collect(),
        });
        let mut done = Vec::new();
        let mut next = 0;
        let mut wait = false;
        while let Some(step) = plan.steps.get(next) {
            if reporter.stop_requested() {
                return Err(MigrateError::Interrupted {
                    applied: done.len(),
                    rows: self.ids(&rows),
                });
            }
            let total = done.len() + plan.steps.len() - next;
            let revision = self.summary(step.node);
            reporter.report(&RunEvent::StepStarted {
                index: done.len(),
                total,
                direction,
                revision: revision.clone(),
            });
            let started = Instant::now();
            match self.run_step(conn, step.node, direction, &step.changes, &rows, wait, log) {
                Ok(()) => {
                    log = LogProgress {
                        exists: true,
                        check_unfinished: false,
                    };
                    crate::version_rows::apply_changes(&mut rows, &step.changes);
                    reporter.report(&RunEvent::StepFinished {
                        index: done.len(),
                        total,
                        revision,
                        elapsed: started.elapsed(),
                    });
                    done.push(step.node);
                    next += 1;
                    wait = false;
                }
                Err(StepError::Busy) => {
                    reporter.report(&RunEvent::WaitingForLock);
                    wait = true;
                }
                Err(StepError::RowsChanged(found)) => {
                    rows = self.nodes(&found)?;
                    plan = self.plan(&goal, &rows)?;
                    next = 0;
                    wait = false;
                    reporter.report(&RunEvent::Replanned {
                        rows: self.ids(&rows),
                        remaining: plan.steps.len(),
                    });
                }
                Err(StepError::LockTimeout(t)) => return Err(MigrateError::LockTimeout(t)),
                Err(StepError::Unfinished(records)) => return Err(self.unfinished(&records)),
                Err(failure) => {
                    return Err(self.failed(conn, step.node, direction, failure, reporter))
                }
            }
        }
        reporter.report(&RunEvent::Completed {
            direction,
            rows: self.ids(&rows),
        });
        Ok(Outcome {
            rows_before,
            steps: done,
            rows_after: rows,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn run_step(
        &self,
        conn: &mut dyn VersionStore,
        node: Node,
        direction: Direction,
        changes: &[RowChange],
        rows: &NodeSet,
        wait: bool,
        log: LogProgress,
    ) -> Result<(), StepError> {
        let revision = self.graph.revision(node);
        let section = section_of(revision, direction);
        let changes = self.version_changes(changes);
        let expected = self.ids(rows);
        let entries = match self.log {
            Some(_) => vec![self.log_entry(
                node,
                match direction {
                    Direction::Up => LogDirection::Up,
                    Direction::Down => LogDirection::Down,
                },
            )],
            None => Vec::new(),
        };
        let work = StepWork {
            section,
            changes: &changes,
            expected_rows: &expected,
            wait,
            log: self.step_log(&entries, log.exists, log.check_unfinished),
        };
        conn.run_step(&self.table, work, self.lock_timeout)
    }

    /// Reads what a run needs of the log before its first step: whether the table exists,
    /// the steps a dead run left unfinished (refused at once when this run's lock keeps
    /// every other run out; otherwise the first step checks under its own lock), and for
    /// `up`, the files that changed since they ran (one warning each).
    fn start_log(
        &self,
        conn: &mut dyn VersionStore,
        rows: &NodeSet,
        direction: Direction,
        run_wide_lock: bool,
        reporter: &mut dyn Reporter,
    ) -> Result<LogProgress, MigrateError> {
        let Some(table) = &self.log else {
            return Ok(LogProgress::default());
        };
        // Drift matters to `up` of a database that has rows; every run needs the unfinished
        // steps. One scan reads both.
        let drift_wanted = direction == Direction::Up && !rows.is_empty();
        let checks = if drift_wanted {
            conn.read_checks(table)?
        } else {
            conn.read_log(table, LogSelect::Unfinished)?
                .map(|unfinished| LogChecks {
                    applied: Vec::new(),
                    unfinished,
                })
        };
        let Some(checks) = checks else {
            return Ok(LogProgress::default());
        };
        if run_wide_lock && !checks.unfinished.is_empty() {
            return Err(self.unfinished(&checks.unfinished));
        }
        if drift_wanted {
            let applied = self.graph.ancestors_inclusive(rows.iter().copied());
            let report = crate::run_log::drift(self.graph, &applied, &checks.applied);
            let records = report.records(conn, table)?;
            for drifted in &report.drifted {
                let (applied_at, how) = records.when_and_how(drifted);
                reporter.report(&RunEvent::Drifted {
                    revision: self.summary(drifted.node),
                    applied_at,
                    how,
                });
            }
        }
        Ok(LogProgress {
            exists: true,
            check_unfinished: !run_wide_lock,
        })
    }

    /// The refusal for steps a dead run left unfinished, naming what may have run.
    fn unfinished(&self, records: &[LogRecord]) -> MigrateError {
        let steps = records
            .iter()
            .map(|record| {
                let verb = match record.direction {
                    LogDirection::Down => "downgrading",
                    _ => "upgrading",
                };
                let statements = self.statements_of(record);
                format!(
                    "revision {} ({}) was left unfinished while {verb}: a run started it at {} ({}, {}) and never completed it, so {}",
                    record.revision,
                    record.path,
                    record.started_at_seconds(),
                    record.author(),
                    record.tool,
                    if statements.is_empty() {
                        "some of its statements may have run".to_owned()
                    } else {
                        format!("any of these statements may have run: {}", statements.join(", "))
                    }
                )
            })
            .collect();
        let mut revisions: Vec<String> = records.iter().map(|r| r.revision.clone()).collect();
        revisions.dedup();
        MigrateError::Unfinished { steps, revisions }
    }

    /// The statements of the section an unfinished step ran, as the file has them now (or
    /// as the log kept a down section), each shortened to its first line.
    fn statements_of(&self, record: &LogRecord) -> Vec<String> {
        let from_file = self.graph.node(&record.revision).and_then(|node| {
            let revision = self.graph.revision(node);
            match record.direction {
                LogDirection::Down => revision.down.as_ref().map(|s| s.sql.clone()),
                _ => Some(revision.up.sql.clone()),
            }
        });
        let sql = match (from_file, record.direction) {
            (Some(sql), _) => sql,
            (None, LogDirection::Down) => record
                .down
                .as_ref()
                .map(|d| d.sql.clone())
                .unwrap_or_default(),
            (None, _) => String::new(),
        };
        crate::backend::statements::split_statements(&sql)
            .iter()
            .map(|s| shorten(s))
            .collect()
    }

    fn failed(
        &self,
        conn: &mut dyn VersionStore,
        node: Node,
        direction: Direction,
        failure: StepError,
        reporter: &mut dyn Reporter,
    ) -> MigrateError {
        let revision = self.graph.revision(node);
        let section = section_of(revision, direction);
        let (failure, left_behind) = match failure {
            StepError::Sql { failure, kept } => {
                let transactional = section.is_some_and(|s| s.transactional);
                (failure, left_behind(&kept, transactional))
            }
            StepError::Db(e) => return MigrateError::Db(e),
            other => (Box::new(SqlFailure::message(other.to_string())), None),
        };
        let line = match &failure.statement {
            Some(statement) => statement.line,
            None => section.map_or(1, |s| shown_line(s.line)),
        };
        // Best effort: say where the database stands now.
        let rows = conn
            .read_rows(&self.table)
            .ok()
            .flatten()
            .unwrap_or_default();
        reporter.report(&RunEvent::Failed {
            revision: self.summary(node),
            rows,
            left_behind,
            line,
            failure: (*failure).clone(),
        });
        MigrateError::StepFailed {
            id: revision.id.to_string(),
            path: revision.origin.path.display().to_string(),
            line,
            verb: match direction {
                Direction::Up => "upgrading",
                Direction::Down => "downgrading",
            },
            failure,
        }
    }

    fn version_changes(&self, changes: &[RowChange]) -> Vec<VersionChange> {
        let id = |n: Node| self.graph.id(n).to_owned();
        changes
            .iter()
            .map(|c| match *c {
                RowChange::Insert(n) => VersionChange::Insert(id(n)),
                RowChange::Delete(n) => VersionChange::Delete(id(n)),
                RowChange::Update { from, to } => VersionChange::Update {
                    from: id(from),
                    to: id(to),
                },
            })
            .collect()
    }

    /// Row ids, sorted as the version table would list them.
    fn ids(&self, rows: &NodeSet) -> Vec<String> {
        let mut ids: Vec<String> = rows.iter().map(|&n| self.graph.id(n).to_owned()).collect();
        ids.sort_unstable();
        ids
    }

    fn summary(&self, node: Node) -> RevisionSummary {
        let rev = self.graph.revision(node);
        RevisionSummary {
            id: rev.id.to_string(),
            message: rev.message.to_string(),
            path: rev.origin.path.display().to_string(),
        }
    }
}

/// The SQL a step runs: the up section, or the down section (absent when irreversible).
fn section_of(revision: &Revision, direction: Direction) -> Option<&crate::revision::Section> {
    match direction {
        Direction::Up => Some(&revision.up),
        Direction::Down => revision.down.as_ref(),
    }
}

fn lock_error(e: StepError) -> MigrateError {
    match e {
        StepError::LockTimeout(t) => MigrateError::LockTimeout(t),
        StepError::Db(e) => MigrateError::Db(e),
        other => MigrateError::Db(DbError {
            context: "taking the migration lock".to_owned(),
            message: other.to_string(),
        }),
    }
}

/// Where a run stands with the log: whether its table exists, and whether the next step
/// must check for unfinished steps first.
#[derive(Clone, Copy, Debug, Default)]
struct LogProgress {
    exists: bool,
    check_unfinished: bool,
}

/// A statement as messages quote it: its first line, at most 60 characters, in backticks.
fn shorten(statement: &str) -> String {
    let first = statement.lines().next().unwrap_or_default();
    let short: String = first.chars().take(60).collect();
    if short.len() < statement.len() {
        format!("`{short}...`")
    } else {
        format!("`{short}`")
    }
}

/// What the report says was left behind by statements that ran before a failure.
fn left_behind(kept: &[String], transactional: bool) -> Option<String> {
    if kept.is_empty() {
        return None;
    }
    let shown: Vec<String> = kept.iter().map(|s| shorten(s)).collect();
    Some(if transactional {
        format!(
            "{} statement(s) ran before the failure and may have been kept, because MySQL/MariaDB commits DDL implicitly: {}; check them before running again",
            kept.len(),
            shown.join(", ")
        )
    } else {
        format!(
            "{} statement(s) of this transaction=false section ran before the failure and were kept: {}",
            kept.len(),
            shown.join(", ")
        )
    })
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;
    use crate::embedded::{parse_files, EmbeddedFile};
    use crate::VersionStore;

    /// A reporter that asks to stop once `after` steps have finished.
    struct StopAfter {
        after: usize,
        finished: usize,
    }

    impl Reporter for StopAfter {
        fn report(&mut self, event: &RunEvent) {
            if let RunEvent::StepFinished { .. } = event {
                self.finished += 1;
            }
        }

        fn stop_requested(&mut self) -> bool {
            self.finished >= self.after
        }
    }

    fn chain() -> Vec<(String, String)> {
        ["s1", "s2", "s3"]
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let parent = if i == 0 { String::new() } else { format!("s{i}") };
                (
                    format!("app/migrations/{id}.sql"),
                    format!("-- {id}\n-- Revision ID: {id}\n-- Revises: {parent}\n\n-- revise:up\nCREATE TABLE {id} (x INTEGER);\n"),
                )
            })
            .collect()
    }

    #[test]
    fn a_stop_request_ends_the_run_between_two_revisions() {
        let texts = chain();
        let files: Vec<EmbeddedFile> = texts
            .iter()
            .map(|(path, text)| EmbeddedFile {
                member: "app",
                // Embedded files are `'static`, as `include_revisions!` makes them.
                path: Box::leak(path.clone().into_boxed_str()),
                text: Box::leak(text.clone().into_boxed_str()),
                checksum: None,
            })
            .collect();
        let graph = parse_files(&files).expect("a graph");
        let mut conn = crate::connect("sqlite::memory:").expect("in memory");
        let migrator = Migrator::new(&graph);
        let mut reporter = StopAfter {
            after: 1,
            finished: 0,
        };
        let stopped = migrator.upgrade_with(&mut conn, "heads", &mut reporter);
        assert!(
            matches!(&stopped, Err(MigrateError::Interrupted { applied: 1, rows }) if rows == &["s1"]),
            "{stopped:?}"
        );
        assert_eq!(
            conn.read_rows(&VersionTable::default()).expect("rows"),
            Some(vec!["s1".to_owned()])
        );
        // A stop before the first step leaves the database as it was; without one the run
        // completes.
        let mut at_once = StopAfter {
            after: 0,
            finished: 0,
        };
        assert!(matches!(
            migrator.upgrade_with(&mut conn, "heads", &mut at_once),
            Err(MigrateError::Interrupted { applied: 0, .. })
        ));
        let outcome = migrator
            .upgrade_with(&mut conn, "heads", &mut crate::SilentReport)
            .expect("the rest runs");
        assert_eq!(outcome.steps.len(), 2);
    }
}
