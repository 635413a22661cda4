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
use crate::target::Target;
use crate::version_rows::{Direction, RowChange};

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

/// Runs revisions of one graph against databases.
#[derive(Clone, Debug)]
pub struct Migrator<'g> {
    graph: &'g RevisionGraph,
    table: VersionTable,
    lock_timeout: Duration,
}

/// A resolved goal, kept so a run can re-plan after another process moved the rows.
enum Goal {
    Up(UpgradeGoal),
    Down(DowngradeGoal),
}

impl<'g> Migrator<'g> {
    /// A migrator over `graph` using the table `alembic_version` and a 60 s lock timeout.
    pub fn new(graph: &'g RevisionGraph) -> Self {
        Self {
            graph,
            table: VersionTable::default(),
            lock_timeout: Duration::from_secs(60),
        }
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
        let work = StepWork {
            section: None,
            changes: &version_changes,
            expected_rows: &raw_rows,
            wait: true,
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
        match self.run_step(conn, node, direction, &changes, &rows, true) {
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
        let _lock = conn
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
            match self.run_step(conn, step.node, direction, &step.changes, &rows, wait) {
                Ok(()) => {
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

    fn run_step(
        &self,
        conn: &mut dyn VersionStore,
        node: Node,
        direction: Direction,
        changes: &[RowChange],
        rows: &NodeSet,
        wait: bool,
    ) -> Result<(), StepError> {
        let revision = self.graph.revision(node);
        let section = section_of(revision, direction);
        let changes = self.version_changes(changes);
        let expected = self.ids(rows);
        let work = StepWork {
            section,
            changes: &changes,
            expected_rows: &expected,
            wait,
        };
        conn.run_step(&self.table, work, self.lock_timeout)
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

/// What the report says was left behind by statements that ran before a failure.
fn left_behind(kept: &[String], transactional: bool) -> Option<String> {
    if kept.is_empty() {
        return None;
    }
    let shown: Vec<String> = kept
        .iter()
        .map(|s| {
            let first = s.lines().next().unwrap_or_default();
            let short: String = first.chars().take(60).collect();
            if short.len() < s.len() {
                format!("`{short}...`")
            } else {
                format!("`{short}`")
            }
        })
        .collect();
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
