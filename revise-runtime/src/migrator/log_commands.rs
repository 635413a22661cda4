//! What the run log adds to a migrator beyond writing rows: `accept` (record a changed
//! file's checksum), `repair` (resolve a step a dead run left unfinished), and the revisions
//! a `down` rebuilds from the log when their files are gone.

use super::{lock_error, MigrateError, Migrator};
use crate::backend::{StepError, StepWork, VersionStore};
use crate::checksum::Checksum;
use crate::graph::Node;
use crate::plan::{self, PlanError, StampDestination};
use crate::revision::Revision;
use crate::run_log::{ghost_revisions, LogDirection, LogRecord, LogSelect, LogTable};
use crate::target::Target;

/// What `accept` did for one revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The revision.
    pub revision: String,
    /// Its file.
    pub path: String,
    /// The checksum the log held for it (`None`: it ran before the log existed).
    pub previous: Option<Checksum>,
    /// The file's checksum now.
    pub current: Checksum,
    /// False when the log already held this checksum: nothing was written.
    pub recorded: bool,
}

impl Migrator<'_> {
    fn log_or_refuse(&self, what: &str) -> Result<&LogTable, MigrateError> {
        self.log.as_ref().ok_or_else(|| {
            MigrateError::Refused(format!(
                "the run log is off (`log_table = false` in [workspace.metadata.revise]), so there is nothing to {what}"
            ))
        })
    }

    /// Records the files of `targets` (applied revisions) as they are now: one `accept` row
    /// each whose checksum differs from the one the log holds, so they no longer count as
    /// drift (SPEC section 10).
    pub fn accept(
        &self,
        conn: &mut dyn VersionStore,
        targets: &[&str],
    ) -> Result<Vec<Accepted>, MigrateError> {
        let table = self.log_or_refuse("accept")?;
        let mut nodes: Vec<Node> = Vec::new();
        for written in targets {
            let parsed = Target::parse(written).map_err(PlanError::from)?;
            for destination in plan::stamp_destinations(self.graph, &parsed, written)? {
                match destination {
                    StampDestination::Revision { node, .. } if !nodes.contains(&node) => {
                        nodes.push(node);
                    }
                    StampDestination::Revision { .. } => {}
                    StampDestination::Base { .. } => {
                        return Err(MigrateError::Refused(format!(
                            "`{written}` names no revision; accept takes applied revisions"
                        )))
                    }
                }
            }
        }
        self.in_run(conn, |conn| {
            let _lock = conn
                .lock(&self.table, self.lock_timeout, &mut || {})
                .map_err(lock_error)?;
            let raw_rows = conn.read_rows(&self.table)?.unwrap_or_default();
            let rows = self.nodes(&raw_rows)?;
            let applied = self.graph.ancestors_inclusive(rows.iter().copied());
            if let Some(&node) = nodes.iter().find(|n| !applied.contains(n)) {
                return Err(MigrateError::Refused(format!(
                    "revision {} is not applied to this database: only an applied revision's file can drift, so there is nothing to accept",
                    self.graph.id(node)
                )));
            }
            let ids: Vec<&str> = nodes.iter().map(|&n| self.graph.id(n)).collect();
            let records = conn
                .read_log(table, LogSelect::AppliedOf(&ids))?
                .unwrap_or_default();
            let exists = !records.is_empty() || self.log_exists(conn)?;
            let mut accepted = Vec::new();
            let mut entries = Vec::new();
            for &node in &nodes {
                let revision = self.graph.revision(node);
                let previous = newest(&records, revision.id.as_str()).and_then(|r| r.checksum);
                let recorded = previous != Some(revision.checksum);
                if recorded {
                    entries.push(self.log_entry(node, LogDirection::Accept));
                }
                accepted.push(Accepted {
                    revision: revision.id.to_string(),
                    path: revision.origin.path.display().to_string(),
                    previous,
                    current: revision.checksum,
                    recorded,
                });
            }
            if entries.is_empty() {
                return Ok(accepted);
            }
            let work = StepWork {
                section: None,
                changes: &[],
                expected_rows: &raw_rows,
                wait: true,
                log: self.step_log(&entries, exists, false),
            };
            conn.run_step(&self.table, work, self.lock_timeout)
                .map_err(|e| match e {
                    StepError::Db(e) => MigrateError::Db(e),
                    other => lock_error(other),
                })?;
            Ok(accepted)
        })
    }

    /// Marks the steps a dead run left unfinished resolved (as failed), after the user has
    /// looked at what they left: those of `revision` (an id or a unique prefix of one), or the
    /// only unfinished revision. `alembic_version` does not move: the next `up` runs the
    /// revision again, or the user stamps past it. Returns the rows it resolved (none when
    /// nothing was unfinished).
    pub fn repair(
        &self,
        conn: &mut dyn VersionStore,
        revision: Option<&str>,
    ) -> Result<Vec<LogRecord>, MigrateError> {
        let table = self.log_or_refuse("repair")?;
        self.in_run(conn, |conn| {
            let _lock = conn
                .lock(&self.table, self.lock_timeout, &mut || {})
                .map_err(lock_error)?;
            let unfinished = conn
                .read_log(table, LogSelect::Unfinished)?
                .unwrap_or_default();
            let chosen = choose_unfinished(unfinished, revision)?;
            let note = format!(
                "interrupted: the run ended inside this step; marked resolved by `repair` ({}, {})",
                self.author.tool,
                author_text(&self.author.user, &self.author.host),
            );
            let mut resolved = Vec::new();
            for record in chosen {
                if conn.resolve_unfinished(table, record.id, &note)? {
                    resolved.push(record);
                }
            }
            Ok(resolved)
        })
    }

    /// The revisions the version table names that no file declares, and those of their
    /// parents that no file declares either, rebuilt from the run log with the down sections
    /// kept there (SPEC section 10: `down` without the file). Empty when every row has its
    /// file. A row the log does not know stays an error, as without the log.
    pub fn revisions_from_log(
        &self,
        conn: &mut dyn VersionStore,
    ) -> Result<Vec<Revision>, MigrateError> {
        self.in_run(conn, |conn| {
            let rows = conn.read_rows(&self.table)?.unwrap_or_default();
            let missing: Vec<String> = rows
                .iter()
                .filter(|id| self.graph.node(id).is_none())
                .cloned()
                .collect();
            let Some(first) = missing.first() else {
                return Ok(Vec::new());
            };
            let unknown = || MigrateError::UnknownRevision {
                id: first.clone(),
                table: self.table.name().to_owned(),
            };
            let Some(table) = &self.log else {
                return Err(unknown());
            };
            let records = conn
                .read_log(table, LogSelect::Applied)?
                .unwrap_or_default();
            let known = |id: &str| self.graph.node(id).is_some();
            ghost_revisions(&known, &missing, &records).map_err(|e| match e {
                crate::run_log::GhostError::NotRecorded(id) => MigrateError::UnknownRevision {
                    id,
                    table: self.table.name().to_owned(),
                },
                other => MigrateError::Refused(other.to_string()),
            })
        })
    }

    /// The revisions `down TARGET` would revert now, in order (nothing is run).
    pub fn downgrade_steps(
        &self,
        conn: &mut dyn VersionStore,
        target: &str,
    ) -> Result<Vec<Node>, MigrateError> {
        let parsed = Target::parse(target).map_err(PlanError::from)?;
        let rows = self.current(conn)?;
        let goal = plan::downgrade_goal(self.graph, &rows, &parsed, target)?;
        Ok(plan::plan_downgrade(self.graph, &rows, &goal)?
            .steps
            .iter()
            .map(|s| s.node)
            .collect())
    }
}

/// The newest of `records` for `revision`.
fn newest<'r>(records: &'r [LogRecord], revision: &str) -> Option<&'r LogRecord> {
    records
        .iter()
        .filter(|r| r.revision == revision)
        .max_by_key(|r| r.id)
}

fn author_text(user: &str, host: &str) -> String {
    match (user.is_empty(), host.is_empty()) {
        (false, false) => format!("{user}@{host}"),
        (false, true) => user.to_owned(),
        (true, false) => host.to_owned(),
        (true, true) => "unknown user".to_owned(),
    }
}

/// The unfinished rows `repair` resolves: those of `revision` (an id or a unique prefix), or
/// all of them when they belong to one revision.
fn choose_unfinished(
    unfinished: Vec<LogRecord>,
    revision: Option<&str>,
) -> Result<Vec<LogRecord>, MigrateError> {
    let mut revisions: Vec<&str> = unfinished.iter().map(|r| r.revision.as_str()).collect();
    revisions.sort_unstable();
    revisions.dedup();
    let chosen: Vec<String> = match revision {
        None if revisions.len() > 1 => {
            return Err(MigrateError::Refused(format!(
                "several revisions have unfinished steps ({}); name the one to repair",
                revisions.join(", ")
            )))
        }
        None => revisions.iter().map(|r| (*r).to_owned()).collect(),
        Some(wanted) => {
            let matching: Vec<&str> = match revisions.iter().find(|r| **r == wanted) {
                Some(exact) => vec![*exact],
                None => revisions
                    .iter()
                    .copied()
                    .filter(|r| r.starts_with(wanted))
                    .collect(),
            };
            match matching.as_slice() {
                [one] => vec![(*one).to_owned()],
                [] if revisions.is_empty() => Vec::new(),
                [] => {
                    return Err(MigrateError::Refused(format!(
                        "revision `{wanted}` has no unfinished step; the unfinished ones are: {}",
                        revisions.join(", ")
                    )))
                }
                many => {
                    return Err(MigrateError::Refused(format!(
                        "`{wanted}` matches several revisions with unfinished steps: {}",
                        many.join(", ")
                    )))
                }
            }
        }
    };
    Ok(unfinished
        .into_iter()
        .filter(|r| chosen.contains(&r.revision))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_log::LogOutcome;

    fn unfinished(id: i64, revision: &str) -> LogRecord {
        let mut record = crate::run_log::drift_test_record(id, revision, None);
        record.outcome = LogOutcome::Unfinished;
        record
    }

    #[test]
    fn repair_picks_the_only_revision_or_the_one_named() {
        let rows = vec![unfinished(1, "a1b2"), unfinished(2, "c3d4")];
        let ids = |chosen: Vec<LogRecord>| chosen.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert!(
            choose_unfinished(rows.clone(), None).is_err(),
            "two revisions"
        );
        assert_eq!(
            ids(choose_unfinished(rows.clone(), Some("c3")).expect("prefix")),
            [2]
        );
        assert_eq!(
            ids(choose_unfinished(rows.clone(), Some("a1b2")).expect("id")),
            [1]
        );
        assert!(choose_unfinished(rows, Some("zz")).is_err());
        assert_eq!(
            ids(choose_unfinished(vec![unfinished(7, "x")], None).expect("one")),
            [7]
        );
        assert!(choose_unfinished(Vec::new(), None)
            .expect("none")
            .is_empty());
        assert!(choose_unfinished(Vec::new(), Some("x"))
            .expect("none")
            .is_empty());
    }
}
