//! Drift: an applied revision whose file no longer has the checksum the log last recorded
//! for it (from the run that applied it, or a later `accept`).

use std::collections::HashMap;

use super::LogRecord;
use crate::graph::{Node, NodeSet, RevisionGraph};

/// An applied revision whose file changed since it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriftedFile {
    /// The revision.
    pub node: Node,
    /// The log row whose checksum the file no longer has.
    pub recorded: LogRecord,
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
}

/// Compares the files of the `applied` revisions with `records` (the log's
/// [`LogSelect::Checksums`](super::LogSelect::Checksums) rows; rows of other revisions are
/// ignored).
pub fn drift(graph: &RevisionGraph, applied: &NodeSet, records: &[LogRecord]) -> DriftReport {
    let mut newest: HashMap<&str, &LogRecord> = HashMap::with_capacity(records.len());
    for record in records.iter().filter(|r| r.checksum.is_some()) {
        let entry = newest.entry(record.revision.as_str()).or_insert(record);
        if record.id > entry.id {
            *entry = record;
        }
    }
    let mut report = DriftReport::default();
    for &node in graph.order().iter().filter(|n| applied.contains(n)) {
        match newest.get(graph.id(node)) {
            None => report.unrecorded.push(node),
            Some(record) if record.checksum != Some(graph.revision(node).checksum) => {
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
    use crate::run_log::{LogDirection, LogOutcome};

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
        let records = [
            // u1: an old checksum, then the current one (accepted): clean.
            record(1, "u1", Some(Checksum::of_file(b"old"))),
            record(4, "u1", Some(sum("u1"))),
            // u2: the current one, then a changed one: drift against the newest.
            record(2, "u2", Some(sum("u2"))),
            record(5, "u2", Some(Checksum::of_file(b"edited since"))),
            // b2 is not applied: its row does not count.
            record(6, "b2", Some(Checksum::of_file(b"anything"))),
        ];
        let report = drift(&graph, &applied, &records);
        assert_eq!(report.drifted.len(), 1);
        assert_eq!(report.drifted[0].node, node("u2"));
        assert_eq!(report.drifted[0].recorded.id, 5);
        assert_eq!(report.unrecorded, [node("b1")], "b1 ran before the log");
        assert!(!report.is_clean());
    }
}
