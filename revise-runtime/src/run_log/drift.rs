//! Drift: an applied revision whose file no longer has the checksum the log last recorded
//! for it (from the run that applied it, or a later `accept`).

use std::collections::HashMap;

use super::{LogDirection, LogRecord, LogSelect, LogTable, RecordedChecksum};
use crate::backend::{DbError, VersionStore};
use crate::graph::{Node, NodeSet, RevisionGraph};

/// Above this many drifted revisions, their rows are found in the whole applied selection
/// rather than asked for by id (one bound parameter each).
const MOST_ASKED_BY_ID: usize = 500;

/// An applied revision whose file changed since it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriftedFile {
    /// The revision.
    pub node: Node,
    /// The recorded checksum the file no longer has.
    pub recorded: RecordedChecksum,
}

/// What comparing the applied files with the log found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DriftReport {
    /// Files changed since they ran, in graph order.
    pub drifted: Vec<DriftedFile>,
    /// Applied revisions the log has no checksum for (applied before the log existed, or by
    /// another tool), in graph order.
    pub unrecorded: Vec<Node>,
}

impl DriftReport {
    /// True when no file drifted.
    pub fn is_clean(&self) -> bool {
        self.drifted.is_empty()
    }

    /// The log's newest recorded row of each drifted revision: when, and by what, the
    /// checksum its file no longer has was recorded. Read after the comparison and for the
    /// drifted revisions alone, so the scan of every recorded checksum stays short.
    pub fn records(
        &self,
        conn: &mut dyn VersionStore,
        log: &LogTable,
    ) -> Result<DriftRecords, DbError> {
        if self.drifted.is_empty() {
            return Ok(DriftRecords::default());
        }
        let ids: Vec<&str> = self
            .drifted
            .iter()
            .map(|d| d.recorded.revision.as_str())
            .collect();
        let select = if ids.len() > MOST_ASKED_BY_ID {
            LogSelect::Applied
        } else {
            LogSelect::AppliedOf(&ids)
        };
        let rows = conn.read_log(log, select)?.unwrap_or_default();
        Ok(DriftRecords(
            rows.into_iter()
                .map(|row| (row.revision.clone(), row))
                .collect(),
        ))
    }
}

/// The rows [`DriftReport::records`] read, by revision.
#[derive(Clone, Debug, Default)]
pub struct DriftRecords(HashMap<String, LogRecord>);

impl DriftRecords {
    /// The row that recorded `drifted`'s checksum; `None` when the log no longer holds it
    /// (edited by hand between the two reads).
    pub fn of(&self, drifted: &DriftedFile) -> Option<&LogRecord> {
        self.0
            .get(&drifted.recorded.revision)
            .filter(|row| row.checksum == Some(drifted.recorded.checksum))
    }

    /// When (UTC, to the second) and by what `drifted`'s checksum was recorded, as messages
    /// say it; "an unknown date" and `up` when [`DriftRecords::of`] finds no row.
    pub fn when_and_how(&self, drifted: &DriftedFile) -> (String, LogDirection) {
        match self.of(drifted) {
            Some(row) => (row.started_at_seconds(), row.direction),
            None => ("an unknown date".to_owned(), LogDirection::Up),
        }
    }
}

/// Compares the files of the `applied` revisions with `records` (the checksums the log
/// recorded, oldest first: the last of a revision is its newest; rows of other revisions are
/// ignored).
pub fn drift(
    graph: &RevisionGraph,
    applied: &NodeSet,
    records: &[RecordedChecksum],
) -> DriftReport {
    let mut newest: HashMap<&str, &RecordedChecksum> = HashMap::with_capacity(records.len());
    for record in records {
        newest.insert(record.revision.as_str(), record);
    }
    let mut report = DriftReport::default();
    for &node in graph.order().iter().filter(|n| applied.contains(n)) {
        match newest.get(graph.id(node)) {
            None => report.unrecorded.push(node),
            Some(record) if record.checksum != graph.revision(node).checksum => {
                report.drifted.push(DriftedFile {
                    node,
                    recorded: (*record).clone(),
                });
            }
            Some(_) => {}
        }
    }
    report
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::checksum::Checksum;
    use crate::graph::tests::users_and_billing;
    use crate::run_log::{LogDirection, LogOutcome, LogRecord};

    fn recorded(revision: &str, checksum: Checksum) -> RecordedChecksum {
        RecordedChecksum {
            revision: revision.to_owned(),
            checksum,
        }
    }

    pub(crate) fn record(id: i64, revision: &str, checksum: Option<Checksum>) -> LogRecord {
        LogRecord {
            id,
            revision: revision.to_owned(),
            member: "users".to_owned(),
            direction: LogDirection::Up,
            checksum,
            path: format!("users/migrations/{revision}.sql"),
            message: String::new(),
            revises: Vec::new(),
            depends_on: Vec::new(),
            down: None,
            started_at: "2026-11-23 12:00:00.000001".to_owned(),
            finished_at: None,
            duration_ms: None,
            outcome: LogOutcome::Succeeded,
            error: None,
            tool: String::new(),
            user: String::new(),
            host: String::new(),
        }
    }

    #[test]
    fn the_newest_checksum_of_each_applied_revision_is_compared() {
        let graph = users_and_billing();
        let node = |id: &str| graph.node(id).expect("known");
        let applied: NodeSet = [node("u1"), node("u2"), node("b1")].into_iter().collect();
        let sum = |id: &str| graph.revision(node(id)).checksum;
        // Oldest first, as the log reads them.
        let edited = Checksum::of_file(b"edited since");
        let records = [
            // u1: an old checksum, then the current one (accepted): clean.
            recorded("u1", Checksum::of_file(b"old")),
            // u2: the current one, then a changed one: drift against the newest.
            recorded("u2", sum("u2")),
            recorded("u1", sum("u1")),
            recorded("u2", edited),
            // b2 is not applied: its row does not count.
            recorded("b2", Checksum::of_file(b"anything")),
        ];
        let report = drift(&graph, &applied, &records);
        assert_eq!(report.drifted.len(), 1);
        assert_eq!(report.drifted[0].node, node("u2"));
        assert_eq!(report.drifted[0].recorded.checksum, edited);
        assert_eq!(report.unrecorded, [node("b1")], "b1 ran before the log");
        assert!(!report.is_clean());
    }
}
