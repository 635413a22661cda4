//! Revisions whose files are gone, rebuilt from the run log so that `down` can revert them
//! (SPEC section 10): the log keeps each applied revision's parents, dependencies and down
//! section as they were when it ran.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use super::LogRecord;
use crate::revision::{HeaderLines, InvalidId, Origin, Revision, RevisionId, Section};

/// Why a missing revision cannot be rebuilt from the log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GhostError {
    /// The log has no successful `up`, `stamp` or `accept` row for it (it ran before the log
    /// existed, or the log is turned off).
    #[error("the run log has no record of revision `{0}`")]
    NotRecorded(String),
    /// A recorded id is not a valid revision id (the log was edited by hand).
    #[error("the run log's record of `{id}` is damaged: {source}")]
    Damaged {
        /// The id as recorded.
        id: String,
        /// Why it is not valid.
        source: InvalidId,
    },
}

/// The revisions `missing` (ids no file declares) and, transitively, their parents and
/// dependencies that no file declares either, rebuilt from `records` (the log's
/// [`LogSelect::Applied`](super::LogSelect::Applied) rows). `is_known` says whether a file
/// declares an id. Each comes back with its recorded down section and an empty up section
/// (only `down` uses them), in the order they were found.
pub fn ghost_revisions(
    is_known: &dyn Fn(&str) -> bool,
    missing: &[String],
    records: &[LogRecord],
) -> Result<Vec<Revision>, GhostError> {
    let mut newest: HashMap<&str, &LogRecord> = HashMap::new();
    for record in records {
        let entry = newest.entry(record.revision.as_str()).or_insert(record);
        if record.id > entry.id {
            *entry = record;
        }
    }
    let mut queue: Vec<String> = missing.to_vec();
    let mut seen: HashSet<String> = queue.iter().cloned().collect();
    let mut ghosts = Vec::new();
    while let Some(id) = queue.pop() {
        let record = newest
            .get(id.as_str())
            .ok_or_else(|| GhostError::NotRecorded(id.clone()))?;
        for link in record.revises.iter().chain(&record.depends_on) {
            if !is_known(link) && seen.insert(link.clone()) {
                queue.push(link.clone());
            }
        }
        ghosts.push(rebuild(record)?);
    }
    Ok(ghosts)
}

fn rebuild(record: &LogRecord) -> Result<Revision, GhostError> {
    let id_of = |text: &str| {
        RevisionId::new(text).map_err(|source| GhostError::Damaged {
            id: record.revision.clone(),
            source,
        })
    };
    let revises = record
        .revises
        .iter()
        .map(|p| id_of(p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Revision {
        id: id_of(&record.revision)?,
        message: record.message.clone().into_boxed_str(),
        revises: revises.into_boxed_slice(),
        depends_on: record.depends_on.clone().into_boxed_slice(),
        branch_labels: Box::default(),
        create_date: None,
        up: Section {
            sql: String::new(),
            transactional: true,
            line: 0,
            leading_lines: 0,
        },
        down: record.down.as_ref().map(|kept| Section {
            sql: kept.sql.clone(),
            transactional: kept.transactional,
            line: 0,
            leading_lines: 0,
        }),
        origin: Origin {
            member: Arc::from(record.member.as_str()),
            path: PathBuf::from(&record.path),
        },
        lines: HeaderLines::default(),
        checksum: record
            .checksum
            .unwrap_or_else(|| crate::checksum::Checksum::from_bytes([0; 32])),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_log::drift::tests::record;
    use crate::run_log::KeptSection;

    #[test]
    fn missing_revisions_and_their_missing_parents_come_back_from_the_log() {
        let mut u3 = record(3, "u3", None);
        u3.revises = vec!["u2".to_owned()];
        u3.down = Some(KeptSection {
            sql: "DROP TABLE u3;".to_owned(),
            transactional: false,
        });
        let mut u2 = record(2, "u2", None);
        u2.revises = vec!["u1".to_owned()];
        let known = |id: &str| id == "u1";
        let ghosts = ghost_revisions(&known, &["u3".to_owned()], &[u2, u3]).expect("recorded");
        let ids: Vec<&str> = ghosts.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["u3", "u2"]);
        let down = ghosts[0].down.as_ref().expect("kept");
        assert_eq!(down.sql, "DROP TABLE u3;");
        assert!(!down.transactional);
        assert!(ghosts[1].down.is_none(), "irreversible stays irreversible");

        assert_eq!(
            ghost_revisions(&known, &["zz".to_owned()], &[]),
            Err(GhostError::NotRecorded("zz".to_owned()))
        );
    }
}
